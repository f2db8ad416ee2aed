package graph

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/lib/pq"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"entgo.io/ent/dialect"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/graph/archive"
	"github.com/rostermirror/rostermirror/graph/batch"
	"github.com/rostermirror/rostermirror/graph/nodes"
	"github.com/rostermirror/rostermirror/graph/roster"
	"github.com/rostermirror/rostermirror/graph/sqljson"
	"github.com/rostermirror/rostermirror/internal/admin"
	"github.com/rostermirror/rostermirror/internal/apprecord"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/csvin"
	"github.com/rostermirror/rostermirror/internal/link"
	"github.com/rostermirror/rostermirror/internal/localdata"
	"github.com/rostermirror/rostermirror/internal/org"
	"github.com/rostermirror/rostermirror/internal/progress"
	"github.com/rostermirror/rostermirror/internal/store"
	"github.com/rostermirror/rostermirror/sync/mirror"
)

// HandlerConfig configures the GraphQL handler.
type HandlerConfig struct {
	// DB is the mirror.
	DB *store.DB
	// Admin carries out the mutations and reports districts' status.
	Admin *admin.Service
	// NextRun tells when the scheduler next syncs a district (District.status); nil when none runs.
	NextRun admin.NextRun
	// Link carries out onboarding (link states, proposals, the link mutations). Default: a link.Service
	// over DB without a scheduler to tell of pauses.
	Link *link.Service
	// Orgs creates and updates organizations. Default: an org.Service over DB telling Link of changes.
	Orgs *org.Service
	// Invites makes district invites; nil refuses createDistrictInvite (the login endpoints are not set
	// up).
	Invites Inviter
	// Matches carries out record matching (importAppRecords, the review mutations). Default: an
	// apprecord.Service over DB.
	Matches *apprecord.Service
	// Progress writes and reads students' progress (recordProgress, progressSummary, aliases). Default:
	// a service over DB.
	Progress *progress.Service
	// Logger receives resolver panics and internal errors (never arguments or results). Default: discard.
	Logger *slog.Logger
	// DefaultPageSize is the page a connection gets when the query gives neither first nor last.
	// Default 100.
	DefaultPageSize int
	// MaxPageSize caps first/last on every connection, and the length of any list in the arguments
	// (nodes' ids, an idIn filter). Default 1000.
	MaxPageSize int
	// MaxDepth caps how deeply a query may nest selections. Default 12.
	MaxDepth int
	// MaxCost caps an operation's cost: the records its answer can hold, each connection counted at its
	// page size (see costLimit). Default 50000.
	MaxCost int
	// MaxBodyBytes caps a request body (and a GET request's query string). Default 128 KiB.
	MaxBodyBytes int
	// MaxTokens, MaxFields, MaxAliases, MaxSpreads and MaxFieldPairs bound a query document before
	// it is parsed for execution and validated (see budget): its tokens, its fields with fragments
	// expanded, its aliases, its fragment spreads once expanded, and the pairs of its fields that answer
	// the same place of the response (which validation compares pairwise). Defaults 15000, 2000, 100,
	// 1000, 10000.
	MaxTokens, MaxFields, MaxAliases, MaxSpreads, MaxFieldPairs int
	// MaxResponseBytes caps an answer: a larger one is replaced by a RESPONSE_TOO_LARGE error. Default
	// 32 MiB.
	MaxResponseBytes int
	// Timeout bounds one request, from reading its body to writing its answer. Default 30s.
	Timeout time.Duration
	// ClientOptions are extra options of the API's ent client (tests count statements with ent.Debug).
	ClientOptions []ent.Option
	// Observe, when set, is told of every operation: its name, how long it took and its errors' codes
	// (for metrics).
	Observe func(operation string, d time.Duration, errorCodes []string)
	// ResolveAll turns off compiled queries: every query runs through the resolvers, as on SQLite.
	ResolveAll bool
	// Compiled, when set, is told of every operation answered by one compiled statement (sqljson).
	Compiled func(operation string)
	// Gate bounds how many operations execute at once; the others wait their turn (see Gate). Default:
	// NewGate(0), a Gate of DefaultConcurrency().
	Gate *Gate
	// Queued, when set, is told how long each executed operation waited for its turn at the Gate.
	Queued func(wait time.Duration)
}

// Error codes in errors' extensions.code.
const (
	CodeBadRequest = "BAD_REQUEST"
	CodeNotFound   = "NOT_FOUND"
	CodeInternal   = auth.CodeInternal // one code for internal errors, from the key check or the API
	CodeTimeout    = "TIMEOUT"
	CodeForbidden  = "FORBIDDEN"
)

// NewHandler returns the /graphql handler: POST and GET transports, a parsed-query cache, automatic
// persisted queries, depth, complexity and page-size limits, a bound on operations executing at once
// (cfg.Gate), a request timeout, and errors presented with codes and without internals. Archived records
// are hidden unless a root field passes includeArchived: true, which then applies to everything below
// that field.
func NewHandler(cfg HandlerConfig) http.Handler {
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	cfg.DefaultPageSize = cmp.Or(cfg.DefaultPageSize, 100)
	cfg.MaxPageSize = cmp.Or(cfg.MaxPageSize, 1000)
	cfg.MaxDepth = cmp.Or(cfg.MaxDepth, 12)
	cfg.MaxCost = cmp.Or(cfg.MaxCost, 50_000)
	cfg.MaxBodyBytes = cmp.Or(cfg.MaxBodyBytes, 128<<10)
	cfg.MaxTokens = cmp.Or(cfg.MaxTokens, 15_000)
	cfg.MaxFields = cmp.Or(cfg.MaxFields, 2000)
	cfg.MaxAliases = cmp.Or(cfg.MaxAliases, 100)
	cfg.MaxSpreads = cmp.Or(cfg.MaxSpreads, 1000)
	cfg.MaxFieldPairs = cmp.Or(cfg.MaxFieldPairs, 10_000)
	cfg.MaxResponseBytes = cmp.Or(cfg.MaxResponseBytes, 32<<20)
	cfg.Timeout = cmp.Or(cfg.Timeout, 30*time.Second)
	if cfg.Gate == nil {
		cfg.Gate = NewGate(0)
	}

	client := cfg.DB.NewClient(cfg.ClientOptions...)
	client.Intercept(archive.Interceptor())
	if cfg.Link == nil {
		cfg.Link = link.New(link.Config{DB: cfg.DB, Logger: cfg.Logger})
	}
	if cfg.Orgs == nil {
		cfg.Orgs = org.New(cfg.DB, cfg.Link, org.WithLogger(cfg.Logger))
	}
	if cfg.Matches == nil {
		cfg.Matches = apprecord.New(cfg.DB, apprecord.WithLogger(cfg.Logger))
	}
	if cfg.Progress == nil {
		cfg.Progress = progress.New(cfg.DB, progress.WithLogger(cfg.Logger))
	}
	resolver := &Resolver{progress: cfg.Progress, client: client, admin: cfg.Admin, nextRun: cfg.NextRun, link: cfg.Link, orgs: cfg.Orgs,
		invites: cmp.Or[Inviter](cfg.Invites, noInvites{}), matches: cfg.Matches, local: localdata.New(cfg.DB)}
	schema := NewExecutableSchema(Config{
		Resolvers:  resolver,
		Directives: DirectiveRoot{RequiresScope: requiresScope},
	})
	lookup := nodes.NewLookup(cfg.DB, nodeTypes(schema.Schema()))
	resolver.nodes = lookup
	srv := handler.New(schema)
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	// Parsed documents and persisted queries: at most 1000 each, of at most 16 KB of query text each
	// (the playground's introspection query is 1.5 KB) and 4 MB in all.
	queries := pagedCache{size: cfg.DefaultPageSize, Cache: newBoundedCache(1000, 16<<10, 4<<20,
		func(query string, _ *ast.QueryDocument) int { return len(query) })}
	srv.SetQueryCache(queries)
	srv.SetParserTokenLimit(cfg.MaxTokens)
	srv.Use(extension.Introspection{})
	// Extensions run in the order they are added: a key that may not read is refused first, before
	// its document is parsed or cached; then the persisted query is looked up, and the budget bounds the
	// document before gqlgen parses and validates it; after validation, the scope, depth, argument and
	// cost checks refuse what would need a scope or load too much, before anything executes.
	srv.Use(requireRead{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: newBoundedCache(1000, 16<<10, 4<<20,
		func(_ string, query string) int { return len(query) })})
	srv.Use(budget{cache: queries, limits: limits{maxTokens: cfg.MaxTokens, maxFields: cfg.MaxFields,
		maxAliases: cfg.MaxAliases, maxSpreads: cfg.MaxSpreads, maxPairs: cfg.MaxFieldPairs}})
	srv.Use(scopeCheck{schema: schema.Schema()})
	srv.Use(depthLimit{max: cfg.MaxDepth})
	srv.Use(argLimit{schema: schema.Schema(), maxPage: cfg.MaxPageSize, defaultPage: cfg.DefaultPageSize, filters: defaultFilterLimits})
	srv.Use(costLimit{schema: schema.Schema(), max: cfg.MaxCost, defaultPage: cfg.DefaultPageSize, listSz: listSize})
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		// Hand-written roster fields load by list within the operation (roster.Batches).
		respond := next(batch.WithBatches(context.WithValue(ctx, dispatchedKey{}, true)))
		return func(ctx context.Context) *graphql.Response {
			if resp := respond(ctx); resp != nil {
				return resp
			}
			// gqlgen answers nothing (JSON null) once the request's context is done: say why instead.
			// (A nil would also end a subscription stream; this API has no subscriptions.)
			code, msg := CodeInternal, "the request was cancelled"
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				code, msg = CodeTimeout, "the request took too long"
			}
			return &graphql.Response{Errors: gqlerror.List{{Message: msg, Extensions: map[string]any{"code": code}}}}
		}
	})
	srv.AroundRootFields(func(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
		fc := graphql.GetRootFieldContext(ctx)
		args := fc.Field.ArgumentMap(graphql.GetOperationContext(ctx).Variables)
		if v, ok := args["includeArchived"].(bool); ok {
			ctx = archive.Include(ctx, v)
		}
		return next(ctx)
	})
	if cfg.Observe != nil {
		srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
			start := time.Now()
			resp := next(ctx)
			var codes []string
			if resp != nil {
				for _, e := range resp.Errors {
					code, _ := e.Extensions["code"].(string)
					codes = append(codes, code)
				}
			}
			name := ""
			if graphql.HasOperationContext(ctx) {
				name = operationName(graphql.GetOperationContext(ctx))
			}
			cfg.Observe(name, time.Since(start), codes)
			return resp
		})
	}
	// Response middlewares nest in the order they are added: the size ceiling inside Observe, so that
	// a refused answer is counted with its code; the gate inside Observe too, so that an operation's
	// duration includes its wait, and around the compiled path, so that both ways of answering take turns.
	srv.AroundResponses(responseCeiling(cfg.MaxResponseBytes))
	srv.AroundResponses(gated(cfg.Gate, cfg.Queued))
	if cfg.DB.Dialect == dialect.Postgres && !cfg.ResolveAll {
		compiler := sqljson.New(sqljson.Config{
			Schema: schema.Schema(), SchemaFile: "ent.graphql", NodeType: lookup.Type,
			MaxPageSize: cfg.MaxPageSize, Members: roster.Compiled,
		})
		pool, err := cfg.DB.GenericPlans()
		if err != nil {
			cfg.Logger.Warn("open the pool of compiled queries; using the main pool", slog.String("error", err.Error()))
			pool = cfg.DB.SQL
		}
		srv.AroundResponses(compiled(compiler, pool, cfg))
	}
	srv.SetErrorPresenter(func(ctx context.Context, err error) *gqlerror.Error {
		return present(ctx, err, cfg.Logger)
	})
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		// A panic's value may quote the request (a literal gqlparser could not read): log its start only.
		msg := fmt.Sprint(p)
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		cfg.Logger.ErrorContext(ctx, "graphql resolver panic", slog.String("panic", msg), slog.String("stack", string(debug.Stack())))
		return errInternal
	})
	return bounded(srv, cfg.MaxBodyBytes, cfg.Timeout)
}

var errInternal = errors.New("internal error")

// nodeTypes are the names of the types that implement Node: what node(id) can answer.
func nodeTypes(s *ast.Schema) []string {
	var names []string
	for _, def := range s.GetPossibleTypes(s.Types["Node"]) {
		names = append(names, def.Name)
	}
	return names
}

// requireRead refuses an operation whose API key lacks the read scope (admin implies it; mutations
// check admin themselves) before anything else — before its document is parsed, validated or cached.
type requireRead struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = requireRead{}

func (requireRead) ExtensionName() string                   { return "RequireRead" }
func (requireRead) Validate(graphql.ExecutableSchema) error { return nil }
func (requireRead) MutateOperationParameters(ctx context.Context, _ *graphql.RawParams) *gqlerror.Error {
	if err := auth.Require(ctx, auth.ScopeRead); err != nil {
		return &gqlerror.Error{Message: err.Error(), Extensions: map[string]any{"code": CodeForbidden}}
	}
	return nil
}

// dispatchedKey marks the context of operations that passed every check and are executed (gqlgen
// also runs the response middlewares for operations it refuses).
type dispatchedKey struct{}

// compiled answers a query with one SQL statement when sqljson compiles it, and through the resolvers
// otherwise (or when the statement fails: the resolvers then report what went wrong).
func compiled(c *sqljson.Compiler, pool *sql.DB, cfg HandlerConfig) graphql.ResponseMiddleware {
	return func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		if ctx.Value(dispatchedKey{}) == nil {
			return next(ctx) // an operation refused before execution (depth, complexity, ...): its errors
		}
		op := graphql.GetOperationContext(ctx)
		data, err := c.Answer(ctx, pool, op, func(scope string) bool { return may(ctx, auth.Scope(scope)) })
		switch {
		case err == nil:
			if cfg.Compiled != nil {
				cfg.Compiled(operationName(op))
			}
			return &graphql.Response{Data: data}
		case ctx.Err() != nil:
			return nil // answered as a timeout or cancellation by the operation middleware
		case !errors.Is(err, sqljson.ErrNotCompiled):
			cfg.Logger.WarnContext(ctx, "compiled graphql query failed; resolving it instead", slog.String("error", err.Error()))
		}
		return next(ctx)
	}
}

// operationName is the operation's name: the request's operationName, or the name in the document.
func operationName(op *graphql.OperationContext) string {
	if op.OperationName == "" && op.Operation != nil {
		return op.Operation.Name
	}
	return op.OperationName
}

// present turns an error into what the client sees: GraphQL parse, validation and argument errors and
// domain errors keep their message with a code; anything else — a database or driver error above all —
// is logged and reported as an internal error, without its text.
func present(ctx context.Context, err error, logger *slog.Logger) *gqlerror.Error {
	var gerr *gqlerror.Error
	if errors.As(err, &gerr) && gerr.Extensions["code"] != nil {
		return withoutValues(gerr)
	}
	out := graphql.DefaultErrorPresenter(ctx, err)
	code := ""
	switch {
	case errors.Is(err, auth.ErrForbidden):
		code = CodeForbidden
	case errors.Is(err, mirror.ErrRunNotFound):
		code = CodeNotFound
	case errors.Is(err, mirror.ErrRunNotHeld), errors.Is(err, mirror.ErrRunSuperseded):
		code = "FAILED_PRECONDITION"
	case errors.Is(err, mirror.ErrBusy), errors.Is(err, org.ErrDuplicateExternalID), errors.Is(err, localdata.ErrDuplicate), errors.Is(err, progress.ErrConcurrent):
		code = "CONFLICT"
	case errors.Is(err, org.ErrInvalid), errors.Is(err, apprecord.ErrInvalid), errors.Is(err, localdata.ErrInvalid), errors.Is(err, progress.ErrInvalid), isFileError(err):
		code = CodeBadRequest
	case errors.Is(err, context.DeadlineExceeded), isQueryCanceled(err):
		code, out.Message = CodeTimeout, "the request took too long"
	case ent.IsNotFound(err), errors.Is(err, link.ErrNotFound), errors.Is(err, apprecord.ErrNotFound), errors.Is(err, localdata.ErrNotFound), errors.Is(err, progress.ErrNotFound):
		code = CodeNotFound
	case errors.Is(err, errInternal):
		code = CodeInternal
	case ent.IsValidationError(err), isEmptyFilter(err), errors.Is(err, link.ErrInvalid):
		code = CodeBadRequest
	case isArgumentError(ctx, gerr):
		// An argument that does not decode (a malformed cursor, id or date): gqlgen reports it on
		// the argument's path, below the field's own.
		code = CodeBadRequest
	default:
		logger.ErrorContext(ctx, "graphql internal error", slog.String("error", err.Error()))
		code, out.Message = CodeInternal, "internal error"
	}
	if out.Extensions == nil {
		out.Extensions = map[string]any{}
	}
	out.Extensions["code"] = code
	return out
}

// withoutValues is a parse or validation error without the values of the request it may quote:
// gqlparser's coercion of variables says "<value> is not a valid <Enum>", which would echo whatever a
// client put in a variable; the error's path names the variable instead.
func withoutValues(gerr *gqlerror.Error) *gqlerror.Error {
	const invalid = " is not a valid "
	if len(gerr.Path) == 0 || gerr.Path[0] != ast.PathName("variable") {
		return gerr
	}
	if i := strings.LastIndex(gerr.Message, invalid); i >= 0 {
		out := *gerr
		out.Message = "not a valid " + gerr.Message[i+len(invalid):]
		return &out
	}
	return gerr
}

// isFileError reports whether err is a file's problems (internal/csvin): the client's to put right.
func isFileError(err error) bool {
	var ferr *csvin.Error
	return errors.As(err, &ferr)
}

// isQueryCanceled reports whether err is Postgres cancelling a statement (SQLSTATE 57014: a statement
// timeout, or the cancellation lib/pq sends when the request's context ends).
func isQueryCanceled(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "57014"
}

// isEmptyFilter reports whether err is entgql's refusal of an empty where input inside a filter
// ({hasRolesWith: [{}]}): the generated ErrEmpty<Type>WhereInput errors, one per type, all say so.
func isEmptyFilter(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if strings.HasPrefix(err.Error(), "ent: empty predicate ") {
			return true
		}
	}
	return false
}

// isArgumentError reports whether gqlgen raised err while decoding the arguments of the field being
// resolved: its path then names the argument (["users", "after"]), one step or more below the field's
// path. Errors of resolvers and of the database carry the field's own path.
func isArgumentError(ctx context.Context, gerr *gqlerror.Error) bool {
	if gerr == nil || !graphql.HasOperationContext(ctx) {
		return false
	}
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return false
	}
	return len(gerr.Path) > len(fc.Path())
}
