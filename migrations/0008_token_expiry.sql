-- Tokens may expire (SPEC §6 bearer tokens; `token create --expires`).
-- NULL: never. An expired token is refused like a revoked one.
ALTER TABLE tokens ADD COLUMN expires_at_ms INTEGER;
