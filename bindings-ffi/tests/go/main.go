// A Go program using libswitchpoint through cgo and pkg-config, as README.md documents:
// a chat, a pull-style stream and a typed error against the mock provider.
//
// usage: go run . MOCK_URL   (with PKG_CONFIG_PATH pointing at switchpoint.pc)
package main

/*
#cgo pkg-config: switchpoint
#include <stdlib.h>
#include "switchpoint.h"
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"unsafe"
)

// apiError is sp_last_error() copied into Go memory.
type apiError struct {
	Status     int
	Kind       string
	Message    string
	HTTPStatus int
	RetryAfter float64
}

func (e *apiError) Error() string { return e.Kind + ": " + e.Message }

// call runs one C call and reads the thread-local error on the same OS thread.
func call(f func() C.sp_status) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if st := f(); st != C.SP_OK {
		e := C.sp_last_error()
		return &apiError{int(st), C.GoString(e.kind), C.GoString(e.message),
			int(e.http_status), float64(e.retry_after)}
	}
	return nil
}

type gateway struct{ ptr *C.sp_gateway }

func newGateway(configJSON string) (*gateway, error) {
	cfg := C.CString(configJSON)
	defer C.free(unsafe.Pointer(cfg))
	g := &gateway{}
	return g, call(func() C.sp_status { return C.sp_gateway_new_from_json(cfg, &g.ptr) })
}

func (g *gateway) close() { C.sp_gateway_free(g.ptr) }

func (g *gateway) chat(request string) (string, error) {
	req := C.CString(request)
	defer C.free(unsafe.Pointer(req))
	var out *C.char
	err := call(func() C.sp_status { return C.sp_chat(g.ptr, req, nil, &out) })
	defer C.sp_string_free(out)
	return C.GoString(out), err
}

// stream reads a stream pull-style and returns the concatenated text and chunk count.
func (g *gateway) stream(request string) (string, int, error) {
	req := C.CString(request)
	defer C.free(unsafe.Pointer(req))
	var s *C.sp_stream
	if err := call(func() C.sp_status { return C.sp_stream_open(g.ptr, req, nil, &s) }); err != nil {
		return "", 0, err
	}
	defer C.sp_stream_close(s)
	var text strings.Builder
	n := 0
	for {
		var chunk *C.char
		if err := call(func() C.sp_status { return C.sp_stream_next(s, &chunk) }); err != nil {
			return text.String(), n, err
		}
		if chunk == nil {
			return text.String(), n, nil
		}
		var c struct {
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
		}
		err := json.Unmarshal([]byte(C.GoString(chunk)), &c)
		C.sp_string_free(chunk)
		if err != nil {
			return "", n, err
		}
		if len(c.Choices) > 0 {
			text.WriteString(c.Choices[0].Delta.Content)
		}
		n++
	}
}

func fail(format string, args ...interface{}) {
	fmt.Printf("FAIL "+format+"\n", args...)
	os.Exit(1)
}

func mockControl(url, method, path, body string) {
	req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fail("mock control %s %s: %v", method, path, err)
	}
	resp.Body.Close()
}

func main() {
	mock := os.Args[1]
	cfg := fmt.Sprintf(`{"providers":{"oai":{"kind":"openai","base_url":"%s/v1","api_key":"k"}},
		"models":{"gpt":{"provider":"oai","model":"gpt-4o-mini"}}}`, mock)
	g, err := newGateway(cfg)
	if err != nil {
		fail("gateway: %v", err)
	}
	defer g.close()

	out, err := g.chat(`{"model":"gpt","messages":[{"role":"user","content":"hello from go"}]}`)
	if err != nil {
		fail("chat: %v", err)
	}
	var resp struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
		Switchpoint struct {
			Provider string `json:"provider"`
		} `json:"switchpoint"`
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		fail("response JSON: %v", err)
	}
	if resp.Choices[0].Message.Content != "hello from go" || resp.Switchpoint.Provider != "oai" {
		fail("unexpected response %s", out)
	}

	text, n, err := g.stream(`{"model":"gpt","stream":true,"messages":[{"role":"user","content":"a b c"}]}`)
	if err != nil || text != "a b c" || n < 4 {
		fail("stream: text %q, %d chunks, err %v", text, n, err)
	}

	mockControl(mock, "DELETE", "/_mock/script", "")
	mockControl(mock, "POST", "/_mock/script", `[{"status":429,"retry_after":2}]`)
	_, err = g.chat(`{"model":"gpt","messages":[{"role":"user","content":"x"}]}`)
	e, ok := err.(*apiError)
	if !ok || e.Status != int(C.SP_RATE_LIMITED) || e.Kind != "rate_limited" ||
		e.HTTPStatus != 429 || e.RetryAfter != 2 {
		fail("429: %#v", err)
	}

	_, err = g.chat(`{"model":"gpt","messages":"nope"}`)
	if e, ok := err.(*apiError); !ok || e.Status != int(C.SP_BAD_REQUEST) {
		fail("bad request: %#v", err)
	}
	fmt.Printf("go: switchpoint %s: chat, stream, errors ok\n", C.GoString(C.sp_version()))
	fmt.Println("4 passed, 0 failed")
}
