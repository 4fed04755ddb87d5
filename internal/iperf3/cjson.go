package iperf3

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
)

// iperf3 builds its JSON with cJSON (1.7.15 in Debian's 3.12) and prints
// it with cJSON_Print: keys in the order they were added (a key added
// twice is printed twice, as -P's sock_bufsize is), a tab after each
// colon, one tab of indent a level, arrays of objects opened on the
// key's line. Values here are string, float64, bool, nil, *object and
// *array; jsonPrint and jsonPrintUnformatted are cJSON_Print and
// cJSON_PrintUnformatted over them.

// object is a cJSON object: its members in insertion order.
type object struct {
	keys []string
	vals []any
}

func newObject() *object { return &object{} }

// add appends a member (cJSON_AddItemToObject) and returns o.
func (o *object) add(key string, v any) *object {
	o.keys = append(o.keys, key)
	o.vals = append(o.vals, v)
	return o
}

// array is a cJSON array.
type array struct{ vals []any }

func newArray() *array { return &array{} }

func (a *array) add(v any) { a.vals = append(a.vals, v) }

// num makes an integer a JSON number as cJSON_CreateNumber takes it (a
// double).
func num[T ~int | ~int64 | ~uint16 | ~uint32 | ~uint64](v T) float64 { return float64(v) }

// jsonPrint is cJSON_Print: the formatted text, without a final newline.
func jsonPrint(v any) string {
	var b strings.Builder
	printValue(&b, v, 0, true)
	return b.String()
}

// jsonPrintUnformatted is cJSON_PrintUnformatted: what JSON_write puts on
// the control connection.
func jsonPrintUnformatted(v any) string {
	var b strings.Builder
	printValue(&b, v, 0, false)
	return b.String()
}

// printValue writes v at depth (the depth cJSON's print buffer has when
// it reaches v).
func printValue(b *strings.Builder, v any, depth int, fmt bool) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case float64:
		b.WriteString(formatNumber(x))
	case string:
		printString(b, x)
	case *object:
		depth++
		b.WriteByte('{')
		if fmt {
			b.WriteByte('\n')
		}
		for i, k := range x.keys {
			if fmt {
				b.WriteString(strings.Repeat("\t", depth))
			}
			printString(b, k)
			b.WriteByte(':')
			if fmt {
				b.WriteByte('\t')
			}
			printValue(b, x.vals[i], depth, fmt)
			if i < len(x.keys)-1 {
				b.WriteByte(',')
			}
			if fmt {
				b.WriteByte('\n')
			}
		}
		if fmt {
			b.WriteString(strings.Repeat("\t", depth-1))
		}
		b.WriteByte('}')
	case *array:
		b.WriteByte('[')
		for i, e := range x.vals {
			printValue(b, e, depth+1, fmt)
			if i < len(x.vals)-1 {
				b.WriteByte(',')
				if fmt {
					b.WriteByte(' ')
				}
			}
		}
		b.WriteByte(']')
	default:
		panic("iperf3: no JSON form for this value")
	}
}

// formatNumber is cJSON's print_number: an integral value that fits an
// int as %d; else %1.15g if that reads back as the same double, else
// %1.17g; NaN and infinities as null.
func formatNumber(d float64) string {
	if math.IsNaN(d) || math.IsInf(d, 0) {
		return "null"
	}
	// valueint: the double saturated to an int, as cJSON_CreateNumber
	// sets it.
	vi := int64(math.MaxInt32)
	switch {
	case d >= math.MaxInt32:
	case d <= math.MinInt32:
		vi = math.MinInt32
	default:
		vi = int64(int32(d))
	}
	if d == float64(vi) {
		return strconv.FormatInt(vi, 10)
	}
	s := strconv.FormatFloat(d, 'g', 15, 64)
	if back, err := strconv.ParseFloat(s, 64); err != nil || !closeDouble(back, d) {
		s = strconv.FormatFloat(d, 'g', 17, 64)
	}
	return s
}

// closeDouble is cJSON's compare_double: equal within the larger's
// epsilon.
func closeDouble(a, b float64) bool {
	m := math.Max(math.Abs(a), math.Abs(b))
	return math.Abs(a-b) <= m*0x1p-52
}

// printString is cJSON's print_string_ptr: quotes, backslash and the
// control characters escaped, every other byte as it is.
func printString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 32 {
				const hex = "0123456789abcdef"
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&15])
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
}

// parseObject reads a JSON object as cJSON_Parse would hand it to
// iperf3: members by name, numbers as doubles. Anything but an object
// (after the value, only white space) is an error.
func parseObject(text []byte) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(text, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errNotObject
	}
	return m, nil
}

var errNotObject = errors.New("iperf3: JSON: not an object")

// valueInt is cJSON's valueint of a number: the double saturated to an
// int32 and truncated; 0 for what is not a number.
func valueInt(v any) int {
	d, ok := v.(float64)
	if !ok {
		return 0
	}
	switch {
	case d >= math.MaxInt32:
		return math.MaxInt32
	case d <= math.MinInt32:
		return math.MinInt32
	}
	return int(int32(d))
}

// valueDouble is cJSON's valuedouble: 0 for what is not a number.
func valueDouble(v any) float64 {
	d, _ := v.(float64)
	return d
}

// valueString is cJSON's valuestring: "" for what is not a string.
func valueString(v any) string {
	s, _ := v.(string)
	return s
}
