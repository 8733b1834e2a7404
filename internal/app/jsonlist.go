package app

import (
	"encoding/json"
	"fmt"
	"io"
)

// jsonList writes one JSON object whose one array member is streamed an
// element at a time, so that a dry run over a huge backlog runs in
// constant memory:
//
//	{<head's fields>,"name":[<element>,<element>,...],<tail's fields>}
//
// head and tail are values that marshal to JSON objects; either may have
// no fields.
type jsonList struct {
	w       io.Writer
	name    string
	head    any
	started bool
	n       int // elements written
}

func newJSONList(w io.Writer, head any, name string) *jsonList {
	return &jsonList{w: w, head: head, name: name}
}

// begin writes the head and opens the array, once.
func (l *jsonList) begin() error {
	if l.started {
		return nil
	}
	l.started = true
	b, err := json.Marshal(l.head)
	if err != nil {
		return err
	}
	open := b[:len(b)-1] // without the closing brace
	if len(open) > 1 {
		open = append(open, ',')
	}
	_, err = fmt.Fprintf(l.w, "%s%q:[", open, l.name)
	return err
}

// add writes one element.
func (l *jsonList) add(v any) error {
	if err := l.begin(); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if l.n > 0 {
		b = append([]byte{','}, b...)
	}
	l.n++
	_, err = l.w.Write(b)
	return err
}

// end closes the array, writes the tail's fields and ends the object and
// the line.
func (l *jsonList) end(tail any) error {
	if err := l.begin(); err != nil {
		return err
	}
	b, err := json.Marshal(tail)
	if err != nil {
		return err
	}
	rest := b[1:] // without the opening brace
	if len(rest) > 1 {
		_, err = fmt.Fprintf(l.w, "],%s\n", rest)
	} else {
		_, err = fmt.Fprintf(l.w, "]}\n")
	}
	return err
}
