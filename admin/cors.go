package admin

import "net/http"

// allowCORS lets MaxIM's web SDK, running in a page of the app's own
// origin, call the REST API: its requests carry app_id and access-token
// headers, so browsers ask first with a preflight OPTIONS. Any origin is
// allowed: callers authenticate with those headers, never with cookies,
// which a page of another origin cannot read or send on their behalf.
func allowCORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
			next.ServeHTTP(w, r)
			return
		}
		h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE")
		if hs := r.Header.Get("Access-Control-Request-Headers"); hs != "" {
			h.Set("Access-Control-Allow-Headers", hs)
		}
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
	})
}
