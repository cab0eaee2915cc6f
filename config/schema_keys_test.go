package config

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// schemaTree is config.schema.json as plain JSON values, walked by key path
// ("accounts[].sinks[].mode") the way the loader walks the Go types.
type schemaTree struct {
	root     map[string]any
	keys     map[string]bool
	defaults map[string]any
	strays   []string // conditions naming a key that is not a property
}

func readSchemaTree(t *testing.T) *schemaTree {
	t.Helper()
	data, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	tree := &schemaTree{keys: map[string]bool{}, defaults: map[string]any{}}
	if err := json.Unmarshal(data, &tree.root); err != nil {
		t.Fatalf("read %s: %v", schemaFile, err)
	}
	tree.object(tree.root, "")
	return tree
}

// resolve follows local "$ref"s to the schema they name.
func (s *schemaTree) resolve(node map[string]any) map[string]any {
	for range 10 {
		ref, ok := node["$ref"].(string)
		if !ok {
			return node
		}
		next := any(s.root)
		for _, tok := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			m, _ := next.(map[string]any)
			next = m[tok]
		}
		node, _ = next.(map[string]any)
	}
	return node
}

// object records the properties of an object schema at path, their
// defaults, and what lies below them.
func (s *schemaTree) object(node map[string]any, path string) {
	props, _ := node["properties"].(map[string]any)
	for name, sub := range props {
		p := joinPath(path, name)
		s.keys[p] = true
		s.value(sub, p)
	}
	s.checkNames(node, props, path)
}

func (s *schemaTree) value(sub any, path string) {
	node, ok := sub.(map[string]any)
	if !ok {
		return
	}
	if def, ok := node["default"]; ok {
		s.defaults[path] = def
	}
	node = s.resolve(node)
	if def, ok := node["default"]; ok && s.defaults[path] == nil {
		s.defaults[path] = def
	}

	switch items, _ := node["items"].(map[string]any); {
	case node["properties"] != nil:
		s.object(node, path)
	case items != nil && s.resolve(items)["properties"] != nil:
		s.object(s.resolve(items), path+"[]")
	}
}

// checkNames records the keys that an object's required lists and
// conditions name without declaring them as properties: a typo there would
// make a rule silently do nothing.
func (s *schemaTree) checkNames(node, props map[string]any, path string) {
	names := namedKeys(node, false)
	for _, name := range names {
		if _, ok := props[name]; !ok {
			s.strays = append(s.strays, joinPath(path, name))
		}
	}
}

// namedKeys lists the keys that node and the conditions inside it require
// or constrain; the node's own properties count only when withProperties.
func namedKeys(node map[string]any, withProperties bool) []string {
	var names []string
	for _, r := range asList(node["required"]) {
		names = append(names, fmt.Sprint(r))
	}
	if props, ok := node["properties"].(map[string]any); ok && withProperties {
		names = append(names, sortedKeys(props)...)
	}

	var subs []any
	for _, kw := range []string{"if", "then", "else", "not"} {
		subs = append(subs, node[kw])
	}
	for _, kw := range []string{"allOf", "anyOf", "oneOf"} {
		subs = append(subs, asList(node[kw])...)
	}
	for _, sub := range subs {
		if m, ok := sub.(map[string]any); ok {
			names = append(names, namedKeys(m, true)...)
		}
	}
	return names
}

func asList(v any) []any {
	list, _ := v.([]any)
	return list
}

// goKeys records the key paths of the Go type t, as its yaml tags name them.
// Exported fields without a yaml tag are reported in untagged.
func goKeys(t reflect.Type, path string, keys map[string]bool, untagged *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, hasTag := f.Tag.Lookup("yaml")
		name, _, _ := strings.Cut(tag, ",")
		switch {
		case !f.IsExported():
			continue
		case !hasTag:
			*untagged = append(*untagged, t.Name()+"."+f.Name)
			continue
		case name == "-":
			continue
		}

		p := joinPath(path, name)
		keys[p] = true
		ft, list := elemType(f.Type)
		if ft.Kind() != reflect.Struct || reflect.PointerTo(ft).Implements(unmarshalerType) {
			continue
		}
		if list {
			p += "[]"
		}
		goKeys(ft, p, keys, untagged)
	}
}

// elemType strips pointers and one list from t and says whether it was a
// list.
func elemType(t reflect.Type) (reflect.Type, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Slice {
		return t, false
	}
	t = t.Elem()
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t, true
}

func TestSchema_keysMatchGoTypes(t *testing.T) {
	tree := readSchemaTree(t)
	keys := map[string]bool{}
	var untagged []string
	goKeys(reflect.TypeFor[Config](), "", keys, &untagged)

	for _, want := range []string{"log.level", "accounts[].sinks[].dialect",
		"accounts[].hooks[].env", "vault.auth.jwt_file"} {
		if !keys[want] {
			t.Fatalf("the walk of the Go types misses %s; fix the test", want)
		}
	}
	if len(tree.keys) < len(keys)/2 {
		t.Fatalf("the walk of %s finds only %d keys; fix the test", schemaFile, len(tree.keys))
	}
	for _, name := range untagged {
		t.Errorf("%s has no yaml tag; name its key, or write `yaml:\"-\"`", name)
	}
	for _, p := range sortedKeys(keys) {
		if !tree.keys[p] {
			t.Errorf("%s: a key of the Go types that %s does not describe; add it there",
				p, schemaFile)
		}
	}
	for _, p := range sortedKeys(tree.keys) {
		if !keys[p] {
			t.Errorf("%s: described in %s, but no Go type has this yaml key", p, schemaFile)
		}
	}
	for _, p := range tree.strays {
		t.Errorf("%s: a required list or condition in %s names it, but it is not a property "+
			"there", p, schemaFile)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestSchema_defaultsMatchLoader(t *testing.T) {
	const fixture = "testdata/schema/defaults.yaml"
	cfg, err := LoadWith(fixture, LoadOptions{ExpandEnv: true, LookupEnv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	tree := readSchemaTree(t)
	if len(tree.defaults) < 30 {
		t.Fatalf("found only %d defaults in %s; fix the walk", len(tree.defaults), schemaFile)
	}

	for _, path := range sortedKeys(tree.defaults) {
		def := tree.defaults[path]
		values := valuesAt(reflect.ValueOf(cfg).Elem(), path)
		if len(values) == 0 {
			t.Errorf("%s: %s sets nothing here; add the block that holds it", path, fixture)
			continue
		}
		if !slices.ContainsFunc(values, func(v reflect.Value) bool { return isDefault(v, def) }) {
			t.Errorf("%s: the schema's default is %v, the loader's %v", path, def, values[0])
		}
	}
}

// valuesAt returns every value at the key path in v: all elements of a
// list ("sinks[]"), none below a nil pointer.
func valuesAt(v reflect.Value, path string) []reflect.Value {
	values := []reflect.Value{v}
	for _, part := range strings.Split(path, ".") {
		name, list := strings.CutSuffix(part, "[]")
		var next []reflect.Value
		for _, x := range values {
			field := fieldByKey(deref(x), name)
			switch {
			case !field.IsValid():
			case list:
				for i := range field.Len() {
					next = append(next, field.Index(i))
				}
			default:
				next = append(next, deref(field))
			}
		}
		values = slices.DeleteFunc(next, func(x reflect.Value) bool { return !x.IsValid() })
	}
	return values
}

func deref(v reflect.Value) reflect.Value {
	for v.IsValid() && v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	return v
}

// fieldByKey returns the field of struct v tagged with the YAML key.
func fieldByKey(v reflect.Value, key string) reflect.Value {
	if !v.IsValid() || v.Kind() != reflect.Struct {
		return reflect.Value{}
	}
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
		if name == key {
			return v.Field(i)
		}
	}
	return reflect.Value{}
}

// isDefault reports whether the loaded value v means the same as the
// schema's default def.
func isDefault(v reflect.Value, def any) bool {
	text, _ := def.(string)
	switch x := v.Interface().(type) {
	case Duration:
		d, err := time.ParseDuration(text)
		return err == nil && x.Value() == d
	case FileMode:
		m := parseFileMode(text)
		return m.problem == "" && x.Value() == m.Value()
	case RenewBefore:
		return x.String() == parseRenewBefore(text).String()
	}

	number, _ := def.(float64)
	switch v.Kind() {
	case reflect.String:
		return v.String() == def
	case reflect.Bool:
		return v.Bool() == def
	case reflect.Int, reflect.Int64:
		return float64(v.Int()) == number
	case reflect.Float64:
		return v.Float() == number
	}
	return false
}
