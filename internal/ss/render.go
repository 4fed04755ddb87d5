package ss

import (
	"io"
	"strings"
)

// ss does not print as it goes: every field of every line is buffered
// as a token, the columns' widths are measured over all of them, and the
// buffer is rendered at the end (or whenever it holds five chunks of a
// MiB, at the end of a line: widths are then those of that batch). This
// is ss's render machinery (misc/ss.c: out, field_next, render_calc_width,
// render), kept to the byte.

type align int

const (
	alignLeft align = iota
	alignCenter
	alignRight
)

// Columns, in ss's order (enum col_id).
const (
	colNetid = iota
	colState
	colRecvQ
	colSendQ
	colAddr
	colServ
	colRAddr
	colRServ
	colExt // timers, -e details and the -i line: the "Process" column
	colProc
	colMax
)

type column struct {
	align          align
	header, ldelim string
	disabled       bool
	width          int // calculated, with the layout's spacing
	maxLen         int // the longest token seen
}

func newColumns() [colMax]column {
	return [colMax]column{
		{alignLeft, "Netid", "", false, 0, 0},
		{alignLeft, "State", " ", false, 0, 0},
		{alignLeft, "Recv-Q", " ", false, 0, 0},
		{alignLeft, "Send-Q", " ", false, 0, 0},
		{alignRight, "Local Address:", " ", false, 0, 0},
		{alignLeft, "Port", "", false, 0, 0},
		{alignRight, "Peer Address:", " ", false, 0, 0},
		{alignLeft, "Port", "", false, 0, 0},
		{alignLeft, "Process", "", false, 0, 0},
		{alignLeft, "", "", false, 0, 0},
	}
}

// Chunk accounting of ss's buffer, so that a long listing is rendered in
// the same batches: a token is its 16-bit length and its bytes, aligned
// to two; a chunk holds chunkData bytes of them.
const (
	chunkData = 1<<20 - 16 // BUF_CHUNK less struct buf_chunk's two pointers
	chunksMax = 5          // BUF_CHUNKS_MAX
	tokenHdr  = 2
)

type token struct {
	col  int
	text string
}

// table is ss's output buffer and its columns.
type table struct {
	w      io.Writer
	screen int // terminal width; 0: not a terminal (compact output)
	cols   [colMax]column
	cur    int // current_field
	toks   []token
	tok    strings.Builder // the current token
	open   bool            // the buffer has a chunk (buffer.head)
	chunks int
	used   int // bytes of the last chunk in use, the current token's included
	tokN   int // the current token's length as stored (cut at the chunk's end)
	err    error
}

func newTable(w io.Writer, screen int) *table {
	return &table{w: w, screen: screen, cols: newColumns()}
}

func (t *table) newChunk() {
	t.chunks++
	t.used = tokenHdr
}

// out appends s to the current field (ss's out).
func (t *table) out(s string) {
	if t.cols[t.cur].disabled {
		return
	}
	if !t.open {
		t.open = true
		t.newChunk()
	}
	n := len(s)
	avail := chunkData - t.used
	if n >= avail && t.used-t.tokN != tokenHdr {
		// It does not fit, and the token is not the chunk's first: it
		// moves to a new chunk whole.
		t.newChunk()
		t.used += t.tokN
		avail = chunkData - t.used
	}
	n = min(n, avail, 0xffff-t.tokN)
	t.used += n
	t.tokN += n
	t.tok.WriteString(s[:n])
}

// flush ends the current field's token (field_flush).
func (t *table) flush() {
	c := &t.cols[t.cur]
	if c.disabled {
		return
	}
	if !t.open {
		// A field with nothing written still has its (empty) token.
		t.open = true
		t.newChunk()
	}
	c.maxLen = max(c.maxLen, t.tokN)
	t.toks = append(t.toks, token{t.cur, t.tok.String()})
	t.tok.Reset()
	pad := t.tokN % 2
	t.tokN = 0
	if chunkData-t.used-pad < tokenHdr {
		t.newChunk()
		return
	}
	t.used += pad + tokenHdr
}

// next moves to the next field, rendering a full buffer at the end of a
// line (field_next).
func (t *table) next() {
	if t.cur == colMax-1 && t.chunks >= chunksMax {
		t.render()
		return
	}
	t.flush()
	if t.cur == colMax-1 {
		t.cur = 0
	} else {
		t.cur++
	}
}

// set flushes fields up to col (field_set).
func (t *table) set(col int) {
	for t.cur != col {
		t.next()
	}
}

// header writes every enabled column's title (print_header).
func (t *table) header() {
	for t.cur != colMax-1 {
		t.out(t.cols[t.cur].header)
		t.next()
	}
}

// calcWidth sets the columns' widths from their contents; on a terminal
// the lines are broken to its width and the spare room spread over the
// columns (render_calc_width).
func (t *table) calcWidth() {
	screen := t.screen
	compact := screen <= 0
	if compact {
		screen = int(^uint(0) >> 1)
	}
	first := true
	for i := range t.cols {
		c := &t.cols[i]
		if c.disabled {
			continue
		}
		if !first && c.maxLen > 0 {
			c.width = c.maxLen + len(c.ldelim)
		} else {
			c.width = c.maxLen
		}
		c.width = min(c.width, screen)
		if c.width > 0 {
			first = false
		}
	}
	if compact {
		return
	}
	eol, n, linecols := -1, 0, 0
	for i := 0; i < colMax; i++ {
		if t.cols[i].width == 0 {
			continue
		}
		linecols++
		n += t.cols[i].width
		last := true
		for j := i + 1; j < colMax; j++ {
			if t.cols[j].width > 0 {
				last = false
				break
			}
		}
		if !last && n < screen {
			continue
		}
		if n != screen {
			if n > screen {
				// Past the edge: this column starts the next line.
				n -= t.cols[i].width
				i--
				linecols--
			}
			pad := screen - n
			spacing, rem := pad/linecols, pad%linecols
			for j := i; j > eol; j-- {
				if t.cols[j].width == 0 {
					continue
				}
				t.cols[j].width += spacing
				if rem > 0 {
					t.cols[j].width++
					rem--
				}
			}
		}
		eol, n, linecols = i, 0, 0
	}
}

func (t *table) write(s string) int {
	if t.err == nil {
		_, t.err = io.WriteString(t.w, s)
	}
	return len(s)
}

func (t *table) spaces(n int) int {
	if n <= 0 {
		return 0
	}
	return t.write(strings.Repeat(" ", n))
}

// render prints the buffered tokens with their columns' spacing and
// delimiters, then empties the buffer (render).
func (t *table) render() {
	if !t.open {
		return
	}
	// The current field's token is part of the batch, but ss measures a
	// field only when it is flushed: the last one sets no width.
	toks := append(t.toks, token{t.cur, t.tok.String()})
	t.calcWidth()
	f := 0
	for t.cols[f].disabled {
		f++
	}
	started := false
	for _, tk := range toks {
		c := &t.cols[f]
		printed := 0
		if started {
			printed = t.write(c.ldelim)
		}
		started = true
		if c.width > 0 && c.align != alignLeft {
			s := c.width - len(tk.text) - printed
			if c.align == alignCenter {
				s = (s + 1) / 2
			}
			printed += t.spaces(s)
		}
		printed += t.write(tk.text)
		if c.width > 0 && c.align != alignRight {
			s := c.width - printed
			if c.align == alignCenter {
				s /= 2
			}
			t.spaces(s)
		}
		for {
			if f == colMax-1 {
				t.write("\n")
				f, started = 0, false
			} else {
				f++
			}
			if !t.cols[f].disabled {
				break
			}
		}
	}
	if started {
		t.write("\n")
	}
	t.toks, t.open, t.chunks, t.used, t.tokN = t.toks[:0], false, 0, 0, 0
	t.tok.Reset()
	t.cur = 0
}
