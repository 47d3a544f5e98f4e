package redisstore

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// fieldCosts attributes the bytes of encoded states to the fields that
// take them: a field's cost is what the encoding shrinks by when the field
// is zeroed (in every element, for the fields of a list's structs). Zeroing
// the base (Seen) or one column can make the rest longer: such costs come
// out negative.
func fieldCosts[T any](c *codec[T], states []T) (total int, costs map[string]int) {
	costs = make(map[string]int)
	size := func(v *T) int {
		b, err := c.appendValue(nil, v)
		if err != nil {
			panic(err)
		}
		return len(b)
	}
	for i := range states {
		s := &states[i]
		n := size(s)
		total += n
		rv := reflect.ValueOf(s).Elem()
		for _, f := range c.root.fields {
			name := rv.Type().Field(f.index).Name
			fv := rv.Field(f.index)
			old := reflect.New(fv.Type()).Elem()
			old.Set(fv)
			fv.SetZero()
			costs[name] += n - size(s)
			fv.Set(old)
			if fv.Kind() != reflect.Slice || fv.Len() == 0 || fv.Type().Elem().Kind() != reflect.Struct {
				continue
			}
			et := fv.Type().Elem()
			for j := range et.NumField() {
				if !et.Field(j).IsExported() {
					continue
				}
				cp := reflect.MakeSlice(fv.Type(), fv.Len(), fv.Len())
				reflect.Copy(cp, old)
				for k := range cp.Len() {
					cp.Index(k).Field(j).SetZero()
				}
				fv.Set(cp)
				costs[name+"[]."+et.Field(j).Name] += n - size(s)
				fv.Set(old)
			}
		}
	}
	return total, costs
}

func costReport[T any](c *codec[T], title string, states []T) string {
	total, costs := fieldCosts(c, states)
	names := make([]string, 0, len(costs))
	for k := range costs {
		names = append(names, k)
	}
	slices.Sort(names)
	var sb strings.Builder
	n := float64(len(states))
	fmt.Fprintf(&sb, "%s: %.1f bytes per state; by field:\n", title, float64(total)/n)
	for _, k := range names {
		if costs[k] != 0 {
			fmt.Fprintf(&sb, "  %-24s %7.1f\n", k, float64(costs[k])/n)
		}
	}
	return sb.String()
}

// TestCodecDemoSizes logs where the bytes of the demo tenant's states go:
// go test ./detector/redisstore -run DemoSizes -v
func TestCodecDemoSizes(t *testing.T) {
	if testing.Short() {
		t.Skip("replays the demo tenant")
	}
	us, as, uc, ac := demoCodecs(t)
	t.Log(costReport(uc, "accounts", us))
	t.Log(costReport(ac, "addresses", as))
}
