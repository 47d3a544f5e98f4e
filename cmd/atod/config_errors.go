package main

import (
	"bytes"
	"errors"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// yaml.v3 reports a value of the wrong type as "line 2: cannot unmarshal
// !!str `soon` into time.Duration": it names neither the key, which every
// other config error does, nor anything but the first characters of the
// value, and those may be a secret pasted into the wrong key.
var typeErrorLine = regexp.MustCompile("^line ([0-9]+): cannot unmarshal !!([a-z]+)(?: .*)? into (.+)$")

// An unknown key is "line 2: field citty not found in type struct {...}":
// the bare key and a Go type, where the other errors give the dotted path.
var unknownFieldLine = regexp.MustCompile("^line ([0-9]+): field (.+) not found in type (.+)$")

// explainTypeErrors rewrites each such line of a *yaml.TypeError as
// "KEY (line N): want WHAT, got a TAG", the key found in raw by its line,
// and leaves every other error as it is.
func explainTypeErrors(err error, raw []byte) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	var root yaml.Node
	if yaml.NewDecoder(bytes.NewReader(raw)).Decode(&root) != nil {
		return err
	}
	keys, names := map[int]string{}, map[int][]string{}
	keysByLine(&root, "", keys, names)
	msgs := make([]string, len(te.Errors))
	for i, line := range te.Errors {
		msgs[i] = line
		if m := unknownFieldLine.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			msgs[i] = unknownKey(names[n], m[2], m[3] == "main.fileConfig") + " (line " + m[1] + "): unknown key"
			continue
		}
		m := typeErrorLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		key := keys[n]
		if key == "" {
			key = "a value"
		}
		msgs[i] = key + " (line " + m[1] + "): want " + wantOf(m[3]) + ", got " + yamlKind(m[2])
	}
	return errors.New(strings.Join(msgs, "; "))
}

// unknownKey finds the dotted path of the unknown key named key among the
// keys on its line (a flow mapping holds several), top-level or not as the
// type it was not found in says, and takes it from the line's list: yaml
// reports the line's keys in order. Without a match it is key itself.
func unknownKey(onLine []string, key string, topLevel bool) string {
	for i, p := range onLine {
		if configKeys()[p] {
			continue // a key of the config: not the unknown one
		}
		if p == key && topLevel || !topLevel && strings.HasSuffix(p, "."+key) {
			copy(onLine[i:], onLine[i+1:])
			onLine[len(onLine)-1] = ""
			return p
		}
	}
	return key
}

// configKeys holds the dotted path of every key of the config file; built
// when an unknown key needs it, not at every start.
var configKeys = sync.OnceValue(func() map[string]bool {
	keys := map[string]bool{}
	addConfigKeys(reflect.TypeFor[fileConfig](), "", keys)
	return keys
})

// addConfigKeys adds the keys of a section of type t under prefix: yaml's
// field names (a tag's, else the lower-cased field name), inline structs
// flattened; maps and lists end a path.
func addConfigKeys(t reflect.Type, prefix string, keys map[string]bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, inline, ok := yamlKey(f)
		switch {
		case !ok:
			continue
		case inline:
			addConfigKeys(f.Type, prefix, keys)
			continue
		}
		if prefix != "" {
			name = prefix + "." + name
		}
		keys[name] = true
		addConfigKeys(f.Type, name, keys)
	}
}

// yamlKey is the key yaml.v3 decodes field f from: its tag's name, else
// the lower-cased field name; inline for a struct flattened into its
// parent; not ok for a field yaml leaves alone.
func yamlKey(f reflect.StructField) (name string, inline, ok bool) {
	name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	switch {
	case name == "-" || !f.IsExported():
		return "", false, false
	case strings.Contains(opts, "inline"):
		return "", true, true
	case name == "":
		name = strings.ToLower(f.Name)
	}
	return name, false, true
}

// keysByLine notes the dotted key of every scalar value under n by the
// line it is on (list items get their index), and in names every key by
// the line the key itself is on.
func keysByLine(n *yaml.Node, path string, out map[int]string, names map[int][]string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			keysByLine(c, path, out, names)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := n.Content[i].Value
			if path != "" {
				p = path + "." + p
			}
			names[n.Content[i].Line] = append(names[n.Content[i].Line], p)
			keysByLine(n.Content[i+1], p, out, names)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			keysByLine(c, path+"["+strconv.Itoa(i)+"]", out, names)
		}
	default:
		if _, taken := out[n.Line]; !taken {
			out[n.Line] = path
		}
	}
}

// wantOf says in words what a Go type of the config takes.
func wantOf(goType string) string {
	switch {
	case goType == "time.Duration":
		return "a duration such as 30s, 5m or 24h"
	case goType == "bool":
		return "true or false"
	case goType == "string":
		return "a string"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "a whole number (" + goType + ")"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["), strings.Contains(goType, "."):
		return "a section of keys"
	}
	return goType
}

// yamlKind names a YAML tag for a person; the value itself is not shown.
func yamlKind(tag string) string {
	switch tag {
	case "str":
		return "a string"
	case "int":
		return "a whole number"
	case "float":
		return "a number (or a whole number too large)"
	case "bool":
		return "true or false"
	case "seq":
		return "a list"
	case "map":
		return "a section of keys"
	}
	return "!!" + tag
}
