module github.com/atod-project/atod

go 1.26.8
