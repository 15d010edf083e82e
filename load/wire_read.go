package load

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"time"
)

// Reading the wire client's answers (wire.go): the status line, the header block, and a body delimited
// by Content-Length, chunks or the connection's close.

// maxHeaderBytes bounds an answer's header block, as net/http's default
// MaxResponseHeaderBytes (10 MB) does, but tighter: our contract's headers
// are small, and a runaway server must not balloon memory.
const maxHeaderBytes = 1 << 20

// readLine returns one line without its CRLF; the slice is valid until the
// next read.
func (c *wireConn) readLine() ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// A long line: gather it in its own buffer.
		buf := append(c.long[:0], line...)
		for err == bufio.ErrBufferFull {
			if len(buf) > maxHeaderBytes {
				return nil, errors.New("answer header line too long")
			}
			line, err = c.br.ReadSlice('\n')
			buf = append(buf, line...)
		}
		c.long = buf
		line = buf
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = bytes.TrimSuffix(line[:len(line)-1], []byte{'\r'})
	return line, nil
}

// readResponse reads one answer. started says whether any byte of it came
// (a stale connection fails before). A traced st gets the first byte's instant.
func (c *wireConn) readResponse(method string, st *stamps) (a wireAnswer, keep, started bool, err error) {
	var minor int
	for {
		if _, err = c.br.Peek(1); err != nil {
			return a, false, false, err
		}
		if !started && st != nil && st.traced {
			st.firstByte = time.Now()
		}
		started = true
		var line []byte
		if line, err = c.readLine(); err != nil {
			return a, false, true, err
		}
		// "HTTP/1.1 200 OK"
		if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
			return a, false, true, fmt.Errorf("malformed status line %q", line)
		}
		minor = int(line[7] - '0')
		a.status, err = strconv.Atoi(string(line[9:12]))
		if err != nil || a.status < 100 {
			return a, false, true, fmt.Errorf("malformed status line %q", line)
		}
		if a.status >= 200 || a.status == http.StatusSwitchingProtocols {
			break
		}
		// 1xx: its headers, then the real answer.
		for {
			if line, err = c.readLine(); err != nil {
				return a, false, true, err
			}
			if len(line) == 0 {
				break
			}
		}
	}
	// Header lines go into one buffer that becomes one string: one
	// allocation for all keys and values.
	c.scratch = c.scratch[:0]
	n := 0
	for {
		line, err := c.readLine()
		if err != nil {
			return a, false, true, err
		}
		if len(line) == 0 {
			break
		}
		if len(c.scratch)+len(line) > maxHeaderBytes {
			return a, false, true, errors.New("answer headers too large")
		}
		c.scratch = append(c.scratch, line...)
		c.scratch = append(c.scratch, '\n')
		n++
	}
	block := string(c.scratch)
	a.header = make(http.Header, n)
	vals := make([]string, n)
	contentLength, chunked := int64(-1), false
	keep = minor >= 1
	for i := 0; len(block) > 0; i++ {
		nl := indexByte(block, '\n')
		line := block[:nl]
		block = block[nl+1:]
		colon := indexByte(line, ':')
		if colon <= 0 {
			return a, false, true, fmt.Errorf("malformed header line %q", line)
		}
		k := textproto.CanonicalMIMEHeaderKey(line[:colon])
		v := trimOWS(line[colon+1:])
		if prev, ok := a.header[k]; ok {
			a.header[k] = append(prev, v)
		} else {
			vals[i] = v
			a.header[k] = vals[i : i+1 : i+1]
		}
		switch k {
		case "Content-Length":
			if contentLength, err = strconv.ParseInt(v, 10, 64); err != nil || contentLength < 0 {
				return a, false, true, fmt.Errorf("bad Content-Length %q", v)
			}
		case "Transfer-Encoding":
			chunked = asciiEqualFold(v, "chunked")
		case "Connection":
			if asciiEqualFold(v, "close") {
				keep = false
			} else if asciiEqualFold(v, "keep-alive") {
				keep = true
			}
		}
	}
	switch {
	case method == http.MethodHead || a.status == http.StatusNoContent || a.status == http.StatusNotModified ||
		a.status < 200:
	case chunked:
		a.body, keep, err = c.readChunked(keep)
	case contentLength >= 0:
		a.body = make([]byte, min(contentLength, maxBody))
		if _, err = io.ReadFull(c.br, a.body); err == nil && contentLength > maxBody {
			keep = false // the rest is not read: the connection cannot carry another request
		}
	default: // delimited by the connection's end
		keep = false
		a.body, err = io.ReadAll(io.LimitReader(c.br, maxBody))
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return a, false, true, fmt.Errorf("read body: %w", err)
	}
	return a, keep, true, nil
}

func (c *wireConn) readChunked(keep bool) ([]byte, bool, error) {
	var body []byte
	for {
		line, err := c.readLine()
		if err != nil {
			return nil, false, err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i] // chunk extensions
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || size < 0 {
			return nil, false, fmt.Errorf("bad chunk size %q", line)
		}
		if size == 0 {
			for { // trailers, then the blank line
				if line, err = c.readLine(); err != nil {
					return nil, false, err
				}
				if len(line) == 0 {
					return body, keep, nil
				}
			}
		}
		if int64(len(body))+size > maxBody {
			return body, false, nil // the rest is not read: the connection is dropped
		}
		start := len(body)
		body = append(body, make([]byte, size)...)
		if _, err := io.ReadFull(c.br, body[start:]); err != nil {
			return nil, false, err
		}
		if line, err = c.readLine(); err != nil || len(line) != 0 {
			return nil, false, fmt.Errorf("chunk not followed by CRLF: %v", err)
		}
	}
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func asciiEqualFold(s, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		a, b := s[i], t[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}
