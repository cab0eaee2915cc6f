package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds the work one document may cause: aliases can make a small
// file expand to an enormous tree. maxDepth stops an alias that refers to
// its own ancestor.
const (
	maxNodes = 5_000_000
	maxDepth = 64
)

// decoder walks a YAML node tree against the Go types of the configuration,
// decoding it value by value. A bad key or value becomes a Problem and the
// walk goes on, so one pass finds every mistake. It records the line of
// every key path it sees.
type decoder struct {
	file   string
	lookup func(string) (string, bool) // nil: no ${VAR} expansion
	lines  map[string]int

	problems Problems
	visited  int
	depth    int
}

// defaulter is a configuration type that sets its defaults on itself before
// the file's values are decoded over them.
type defaulter interface {
	setDefaults()
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

func (d *decoder) problem(line int, path, message string) {
	p := Problem{File: d.file, Line: line, Path: path, Message: message}
	d.problems = append(d.problems, p)
}

// decode decodes n into v, which is addressable.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	n = resolveAlias(n)
	if !d.enter(n, path) {
		return
	}
	defer func() { d.depth-- }()
	if isNull(n) {
		return
	}

	if reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		d.decodeScalar(n, v, path)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
			setDefaults(v)
		}
		d.decode(n, v.Elem(), path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	default:
		d.decodeScalar(n, v, path)
	}
}

// enter counts a visit to n and reports whether the walk may go on into it.
// The caller decrements depth when done.
func (d *decoder) enter(n *yaml.Node, path string) bool {
	d.visited++
	d.depth++
	switch {
	case d.visited == maxNodes:
		d.problem(n.Line, path, "the document expands to too many values; check its aliases")
	case d.depth == maxDepth:
		d.problem(n.Line, path, "values nest too deeply; does an alias refer to itself?")
	}
	if d.visited >= maxNodes || d.depth >= maxDepth {
		d.depth--
		return false
	}
	return true
}

// decodeStruct decodes a mapping into a struct, reporting unknown keys.
func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.wrongShape(n, v.Type(), path)
		return
	}

	fields := fieldsOf(v.Type())
	for _, p := range d.pairs(n, path) {
		key := p.key.Value
		child := joinPath(path, key)
		index, known := fields.index[key]
		if !known {
			d.problem(p.key.Line, child, unknownKey(key, fields.names))
			continue
		}
		d.lines[child] = p.key.Line
		d.decode(p.value, v.Field(index), child)
	}
}

// decodeSlice decodes a sequence into a slice.
func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.wrongShape(n, v.Type(), path)
		return
	}

	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		child := path + "[" + strconv.Itoa(i) + "]"
		d.lines[child] = item.Line
		setDefaults(s.Index(i).Addr())
		d.decode(item, s.Index(i), child)
	}
	v.Set(s)
}

// decodeMap decodes a mapping of names to text values (a hook's env).
func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.wrongShape(n, v.Type(), path)
		return
	}

	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	for _, p := range d.pairs(n, path) {
		child := joinPath(path, p.key.Value)
		d.lines[child] = p.key.Line
		value := reflect.New(v.Type().Elem()).Elem()
		d.decode(p.value, value, child)
		m.SetMapIndex(reflect.ValueOf(p.key.Value).Convert(v.Type().Key()), value)
	}
	v.Set(m)
}

// decodeScalar expands and decodes a single value.
func (d *decoder) decodeScalar(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.wrongShape(n, v.Type(), path)
		return
	}
	x, ok := d.expanded(n, path)
	if !ok || isNull(x) {
		return
	}

	if u, isUnmarshaler := v.Addr().Interface().(yaml.Unmarshaler); isUnmarshaler {
		_ = u.UnmarshalYAML(x) // the value types record problems instead of failing
		return
	}
	if !setScalar(x, v) {
		d.problem(n.Line, path, fmt.Sprintf("expected %s, found %q%s",
			wanted(v.Type()), n.Value, quotesHint(x, v.Type())))
	}
}

// quotesHint suggests removing the quotes around a value that would fit
// without them, such as "6" for a number.
func quotesHint(x *yaml.Node, t reflect.Type) string {
	if x.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0 {
		return ""
	}
	unquoted := *x
	unquoted.Style, unquoted.Tag = 0, ""
	if !setScalar(&unquoted, reflect.New(t).Elem()) {
		return ""
	}
	return "; remove the quotes"
}

// setScalar stores the scalar x in v and reports whether it fits v's type.
func setScalar(x *yaml.Node, v reflect.Value) bool {
	tag := x.ShortTag()
	switch v.Kind() {
	case reflect.String:
		v.SetString(x.Value)
	case reflect.Bool:
		var b bool
		if tag != "!!bool" || x.Decode(&b) != nil {
			return false
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var i int64
		if tag != "!!int" || x.Decode(&i) != nil || v.OverflowInt(i) {
			return false
		}
		v.SetInt(i)
	case reflect.Float32, reflect.Float64:
		var f float64
		if (tag != "!!int" && tag != "!!float") || x.Decode(&f) != nil {
			return false
		}
		v.SetFloat(f)
	default:
		return false
	}
	return true
}

// expanded returns n with ${VAR} references expanded, as a copy: an aliased
// node is visited more than once and must be expanded from its original
// text each time. A plain scalar is retyped after expansion, so that
// "port: ${PORT}" decodes as a number.
func (d *decoder) expanded(n *yaml.Node, path string) (*yaml.Node, bool) {
	if d.lookup == nil || !strings.Contains(n.Value, "$") {
		return n, true
	}

	text, problems := expand(n.Value, d.lookup)
	for _, p := range problems {
		d.problem(n.Line, path, p)
	}
	if len(problems) > 0 {
		return nil, false
	}

	x := *n
	x.Value = text
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|
		yaml.FoldedStyle) == 0 {
		x.Tag = ""
	}
	return &x, true
}

// wrongShape reports a list, mapping or single value where another shape
// belongs.
func (d *decoder) wrongShape(n *yaml.Node, t reflect.Type, path string) {
	d.problem(n.Line, path, fmt.Sprintf("expected %s, found %s", wanted(t), shapeOf(n)))
}

// setDefaults calls setDefaults on the value p points to, if it has one.
func setDefaults(p reflect.Value) {
	if s, ok := p.Interface().(defaulter); ok {
		s.setDefaults()
	}
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// joinPath appends a key to a key path.
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// shapeOf names what a node is, for messages.
func shapeOf(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return "a single value"
	}
}

// wanted names what a value of type t is written as, for messages.
func wanted(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[Duration]():
		return `a duration like "90s"`
	case reflect.TypeFor[FileMode]():
		return `an octal mode like "0640"`
	case reflect.TypeFor[RenewBefore]():
		return `a duration like "2h" or a percentage like "25%"`
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "a mapping"
	case reflect.Pointer:
		return wanted(t.Elem())
	case reflect.Slice:
		return "a list"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	default:
		return "a single value"
	}
}
