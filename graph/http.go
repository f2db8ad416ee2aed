package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// bounded puts the whole of a request under timeout (body, parse, validation, execution and answer)
// and bounds what it may send: a body of at most maxBody bytes (413 otherwise, read no further), a GET
// query string as long, and a POST body that is a JSON GraphQL request — a body that is not is refused
// here with a message that never repeats it (gqlgen's own transport echoes the whole body back).
func bounded(next http.Handler, maxBody int, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		r = r.WithContext(ctx)
		if len(r.URL.RawQuery) > maxBody {
			refuse(w, http.StatusRequestURITooLong, CodePayloadTooLarge, fmt.Sprintf("the query string is over %d bytes; send large queries by POST", maxBody))
			return
		}
		if r.Method == http.MethodPost {
			if r.ContentLength > int64(maxBody) {
				refuse(w, http.StatusRequestEntityTooLarge, CodePayloadTooLarge, fmt.Sprintf("the request body is over %d bytes", maxBody))
				return
			}
			body, err := io.ReadAll(io.LimitReader(r.Body, int64(maxBody)+1))
			switch {
			case err != nil:
				refuse(w, http.StatusBadRequest, CodeBadRequest, "the request body could not be read")
				return
			case len(body) > maxBody:
				refuse(w, http.StatusRequestEntityTooLarge, CodePayloadTooLarge, fmt.Sprintf("the request body is over %d bytes", maxBody))
				return
			}
			if msg := checkJSON(body); msg != "" {
				refuse(w, http.StatusBadRequest, CodeBadRequest, msg)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, r)
	})
}

// checkJSON decodes a POST body as gqlgen will (graphql.RawParams, numbers kept as json.Number) and says
// what is wrong with it, without quoting it.
func checkJSON(body []byte) string {
	var p graphql.RawParams
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	err := dec.Decode(&p)
	if err == nil {
		return ""
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("the request body is not JSON (syntax error at byte %d)", syntax.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("the request body is not a GraphQL request: %q must not be a JSON %s", typ.Field, typ.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the request body is empty or cut short"
	}
	return "the request body is not a JSON GraphQL request"
}

// refuse writes a GraphQL-shaped error response.
func refuse(w http.ResponseWriter, status int, code, message string) {
	body, _ := json.Marshal(graphql.Response{Errors: gqlerror.List{{Message: message, Extensions: map[string]any{"code": code}}}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// responseCeiling replaces an answer larger than maxBytes by a RESPONSE_TOO_LARGE error. The cost limit
// keeps answers far smaller; this is the ceiling should an estimate be wrong (long texts in many rows).
func responseCeiling(maxBytes int) graphql.ResponseMiddleware {
	return func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx)
		if resp == nil || len(resp.Data) <= maxBytes {
			return resp
		}
		return &graphql.Response{Errors: gqlerror.List{{
			Message:    fmt.Sprintf("the answer is over %d bytes; ask for smaller pages or fewer fields", maxBytes),
			Extensions: map[string]any{"code": CodeResponseTooLarge},
		}}}
	}
}
