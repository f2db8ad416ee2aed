package clever

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// DistrictToken is a district-app token as GET /oauth/tokens lists it.
type DistrictToken struct {
	ID          string   `json:"id"`
	Created     Date     `json:"created,omitzero"`
	Owner       Owner    `json:"owner"`
	AccessToken Token    `json:"access_token"`
	Scopes      []string `json:"scopes,omitempty"`
}

// Owner is whom a token belongs to; for district-app tokens Type is "district" and ID the district id.
type Owner struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// oauthRequest builds a request to the OAuth host with the app's Basic credentials.
func (c *Client) oauthRequest(method, pathQuery string, body []byte) request {
	h := http.Header{}
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.cfg.ClientID+":"+c.cfg.ClientSecret)))
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	return request{method: method, url: c.cfg.OAuthURL + pathQuery, path: pathQuery, body: body, header: h, retryable: method == http.MethodGet}
}

// DistrictTokens lists the app's district tokens (GET /oauth/tokens?owner_type=district), or only
// districtID's when it is not empty. Clever rotates tokens, so read the token by district id before each
// sync rather than storing it forever. A district that disconnected the app is simply absent.
func (c *Client) DistrictTokens(ctx context.Context, districtID string) ([]DistrictToken, error) {
	q := url.Values{"owner_type": {"district"}}
	if districtID != "" {
		q.Set("district", districtID)
	}
	var out []DistrictToken
	next := "/oauth/tokens?" + q.Encode()
	for next != "" {
		body, _, err := c.do(ctx, c.oauthRequest(http.MethodGet, next, nil))
		if err != nil {
			return nil, fmt.Errorf("list district tokens: %w", err)
		}
		var env struct {
			Data  *[]DistrictToken `json:"data"`
			Links []Link           `json:"links"`
		}
		if err := json.Unmarshal(body, &env); err != nil || env.Data == nil {
			return nil, fmt.Errorf("list district tokens: %w: %s", ErrMalformed, describeBody(body, err))
		}
		out = append(out, *env.Data...)
		next = ""
		for _, l := range env.Links {
			if l.Rel == "next" && len(*env.Data) > 0 {
				if next, err = relativeLink(l.URI); err != nil {
					return nil, fmt.Errorf("list district tokens: %w", err)
				}
			}
		}
	}
	return out, nil
}

// ExchangeCode trades a login code from /oauth/authorize (Log in with Clever, Instant Login) for the
// user's bearer token (POST /oauth/tokens). A code works once: a reused or expired code gives an error
// matching ErrInvalidGrant. The exchange is never retried after a failure that may have spent the code.
func (c *Client) ExchangeCode(ctx context.Context, code, redirectURI string) (Token, error) {
	body, err := json.Marshal(map[string]string{
		"code":         code,
		"grant_type":   "authorization_code",
		"redirect_uri": redirectURI,
	})
	if err != nil {
		return "", fmt.Errorf("exchange code: %w", err)
	}
	resp, _, err := c.do(ctx, c.oauthRequest(http.MethodPost, "/oauth/tokens", body))
	if err != nil {
		return "", fmt.Errorf("exchange code: %w", err)
	}
	var out struct {
		AccessToken Token  `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(resp, &out); err != nil || out.AccessToken == "" {
		return "", fmt.Errorf("exchange code: %w: %s", ErrMalformed, describeBody(resp, err))
	}
	return out.AccessToken, nil
}

// Me is who a token belongs to (GET /v3.0/me).
type Me struct {
	// Type is "user" for a login token (Clever's docs) — recordings also show the role here — or
	// "district" for a district-app token.
	Type string `json:"type"`
	Data MeData `json:"data"`
}

// MeData identifies the token's owner.
type MeData struct {
	ID       string `json:"id"`
	District string `json:"district,omitempty"`
	// Type is the user's role ("teacher", "student", …) or "user"; Clever has sent both.
	Type string `json:"type,omitempty"`
	// AuthorizedBy is "district" for district SSO and "teacher" for teacher-authorized (Library) logins.
	AuthorizedBy string `json:"authorized_by,omitempty"`
}

// Me reads /v3.0/me for the client's token.
func (tc *TokenClient) Me(ctx context.Context) (Me, error) {
	body, _, err := tc.c.do(ctx, tc.request(http.MethodGet, "/v3.0/me"))
	if err != nil {
		return Me{}, fmt.Errorf("get me: %w", err)
	}
	var me Me
	if err := json.Unmarshal(body, &me); err != nil || me.Data.ID == "" {
		return Me{}, fmt.Errorf("get me: %w: %s", ErrMalformed, describeBody(body, err))
	}
	return me, nil
}
