package main

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// fractionsInWholeNumbers refuses a fraction written for a key that takes
// a whole number: yaml.v3 cuts it down without a word (an alert_score of
// 50.5 became 50, a bulk_min_items of 0.9 became 0 and was then refused as
// "got 0", a value the file never held). Whole numbers written as floats
// (1e3) are taken, as yaml.v3 takes them.
func fractionsInWholeNumbers(raw []byte) error {
	var root yaml.Node
	if yaml.NewDecoder(bytes.NewReader(raw)).Decode(&root) != nil {
		return nil // the decoder has said what is wrong
	}
	var errs []string
	findFractions(&root, reflect.TypeFor[fileConfig](), "", &errs)
	if len(errs) == 0 {
		return nil
	}
	return errors.New(strings.Join(errs, "; "))
}

// findFractions walks n beside the Go type t it decodes into.
func findFractions(n *yaml.Node, t reflect.Type, path string, errs *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			findFractions(c, t, path, errs)
		}
	case yaml.AliasNode:
		findFractions(n.Alias, t, path, errs)
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if key == "<<" && n.Content[i].ShortTag() == "!!merge" {
				// A merge key's mappings fill this one.
				findMerged(n.Content[i+1], t, path, errs)
				continue
			}
			p := key
			if path != "" {
				p = path + "." + key
			}
			var ft reflect.Type
			switch t.Kind() {
			case reflect.Struct:
				ft = fieldType(t, key)
			case reflect.Map:
				ft = t.Elem()
			}
			if ft != nil {
				findFractions(n.Content[i+1], ft, p, errs)
			}
		}
	case yaml.SequenceNode:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for i, c := range n.Content {
				findFractions(c, t.Elem(), path+"["+strconv.Itoa(i)+"]", errs)
			}
		}
	case yaml.ScalarNode:
		if !isWholeKind(t.Kind()) || n.ShortTag() != "!!float" {
			return
		}
		if v, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64); err != nil || math.Trunc(v) != v {
			*errs = append(*errs, path+" (line "+strconv.Itoa(n.Line)+"): want a whole number, got a fraction")
		}
	}
}

// findMerged walks the value of a merge key ("<<": a mapping, an alias
// of one, or a list of them) as keys of the mapping it is in.
func findMerged(n *yaml.Node, t reflect.Type, path string, errs *[]string) {
	switch n.Kind {
	case yaml.SequenceNode:
		for _, c := range n.Content {
			findMerged(c, t, path, errs)
		}
	case yaml.AliasNode:
		findMerged(n.Alias, t, path, errs)
	default:
		findFractions(n, t, path, errs)
	}
}

// fieldType is the type of the field of struct t that yaml names key
// (inline structs searched too), or nil.
func fieldType(t reflect.Type, key string) reflect.Type {
	for i := range t.NumField() {
		f := t.Field(i)
		name, inline, ok := yamlKey(f)
		switch {
		case !ok:
		case inline:
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if in := fieldType(ft, key); in != nil {
					return in
				}
			}
		case name == key:
			return f.Type
		}
	}
	return nil
}

func isWholeKind(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}
