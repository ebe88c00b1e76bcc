package admin

import (
	"encoding/json"
	"net/http"

	"github.com/imgate/imgate"
)

// envelope is MaxIM's response body. Business errors travel in Code with
// HTTP 200; the paging fields appear only on list answers.
type envelope struct {
	Code    int     `json:"code"`
	Data    any     `json:"data"`
	Message *string `json:"message"`
	Cursor  string  `json:"cursor,omitempty"`
	Total   *int    `json:"total,omitempty"`
	Version *int64  `json:"version,omitempty"`
	MsgIDs  []int64 `json:"msg_ids,omitempty"`
}

// list is a handler result that carries paging fields beside its data.
// An empty Cursor means the last page.
type list struct {
	Data    any
	Cursor  string
	Total   *int
	Version int64
}

// sent is the answer of a message send (SendMessageResponse): data true,
// and the ids of the messages stored beside it.
type sent struct{ MsgIDs []int64 }

// handlerFunc serves one route; the adapter in Server.handle writes what
// it returns.
type handlerFunc func(r *http.Request, c *call) (any, error)

// writeResult answers with v, or err, and returns the MaxIM code it
// answered.
func (s *Server) writeResult(w http.ResponseWriter, r *http.Request, route string, v any, err error) int {
	if err != nil {
		return s.writeError(w, r, route, err)
	}
	env := envelope{Code: imgate.CodeOK, Data: v}
	switch v := v.(type) {
	case list:
		version := v.Version
		env = envelope{Code: imgate.CodeOK, Data: v.Data, Cursor: v.Cursor, Total: v.Total, Version: &version}
	case sent:
		env = envelope{Code: imgate.CodeOK, Data: true, MsgIDs: v.MsgIDs}
	}
	writeJSON(w, http.StatusOK, env)
	return imgate.CodeOK
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, route string, err error) int {
	code := imgate.ErrorCode(err)
	if code == imgate.CodeStore {
		s.cfg.Metrics.StoreError("request")
		// Only internal errors are logged; business errors are the caller's.
		s.log.ErrorContext(r.Context(), "request failed", "route", route, "method", r.Method, "err", err)
	}
	msg := imgate.ErrorMessage(err)
	writeJSON(w, http.StatusOK, envelope{Code: code, Message: &msg})
	return code
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		// The client went away; there is nobody left to tell.
		return
	}
}

// writeStatus answers requests that never reached a route (no such path,
// wrong method) with the HTTP status in the envelope's code as well.
func writeStatus(w http.ResponseWriter, status int) {
	msg := http.StatusText(status)
	writeJSON(w, status, envelope{Code: status, Message: &msg})
}
