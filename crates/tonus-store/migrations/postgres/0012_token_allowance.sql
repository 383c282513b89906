-- The request allowance of each personal access token (a token bucket: `tokens` left at
-- `at_ms`). It lives here, not in one server's memory, so several `tonus serve` processes
-- behind one load balancer share one allowance per token. Gone with its token.
CREATE TABLE token_allowance (
    token_hash TEXT PRIMARY KEY REFERENCES api_tokens(token_hash) ON DELETE CASCADE,
    tokens DOUBLE PRECISION NOT NULL,
    at_ms BIGINT NOT NULL
);
