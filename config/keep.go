package config

import (
	"errors"
	"fmt"
	"strings"

	up "go.mau.fi/util/configupgrade"
	"gopkg.in/yaml.v3"
)

// keepingHelper is configupgrade's helper with a Copy that never drops a user's value. The
// library's Copy skips a value whose YAML type is not the one asked for, and the example's
// default silently replaces it: `clinic_phone: +33123456789` (an int to YAML) became "", and
// `per_second: 10` (an int where a float is read) became 1. Here a value the bridge can read as
// the key's type is kept as that type; anything else is an error naming the key and its line.
type keepingHelper struct {
	*up.CopyHelper
	errs []error
}

func newKeepingHelper(base, cfg *yaml.Node) *keepingHelper {
	return &keepingHelper{CopyHelper: up.NewHelper(base, cfg)}
}

// err is what the upgrade could not keep, nil if it kept everything.
func (h *keepingHelper) err() error { return errors.Join(h.errs...) }

func (h *keepingHelper) Copy(allowed up.YAMLType, path ...string) {
	node := h.Config
	for _, key := range path {
		next, ok := node.Map[key]
		if !ok {
			return // not set by the user: the example's value stays
		}
		node = next
	}
	n := node.Node
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	tag := n.ShortTag()
	switch {
	case allowed&typeOf(tag) != 0:
	case n.Kind == yaml.ScalarNode && tag == up.NullTag && allowed&up.Str != 0:
		// `avatar:` with nothing after it: an empty text.
		n.Tag, n.Value = up.StrTag, ""
	case n.Kind == yaml.ScalarNode && tag == up.NullTag && allowed&up.Map != 0:
		n.Kind, n.Tag, n.Value = yaml.MappingNode, up.MapTag, ""
	case n.Kind == yaml.ScalarNode && tag != up.NullTag && allowed&up.Str != 0:
		// A number, date or boolean where text is read: the bridge reads it as the text written.
		n.Tag, n.Style = up.StrTag, yaml.DoubleQuotedStyle
	case tag == up.IntTag && allowed&up.Float != 0:
		allowed |= up.Int // YAML reads 10 as a float too
	default:
		h.errs = append(h.errs, fmt.Errorf("%s (line %d): wrong value type: %s, but the bridge reads %s there; "+
			"correct it so the upgrade does not lose it", strings.Join(path, "."), n.Line, describeType(tag), describeAllowed(allowed)))
		return
	}
	h.CopyHelper.Copy(allowed|typeOf(n.ShortTag()), path...)
}

func typeOf(tag string) up.YAMLType {
	for t := up.Null; t <= up.Binary; t <<= 1 {
		if t.String() == tag {
			return t
		}
	}
	return 0
}

func describeAllowed(allowed up.YAMLType) string {
	var names []string
	for t := up.Null; t <= up.Binary; t <<= 1 {
		if allowed&t != 0 {
			names = append(names, describeType(t.String()))
		}
	}
	return strings.Join(names, " or ")
}

func describeType(tag string) string {
	switch tag {
	case up.NullTag:
		return "empty"
	case up.BoolTag:
		return "true or false"
	case up.StrTag:
		return "text"
	case up.IntTag:
		return "a whole number"
	case up.FloatTag:
		return "a number"
	case up.TimestampTag:
		return "a date"
	case up.SeqTag:
		return "a list"
	case up.MapTag:
		return "a mapping of keys"
	default:
		return tag
	}
}
