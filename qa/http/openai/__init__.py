"""The OpenAI-compatible routes (/v1/chat/completions, /v1/models): routes, the wire format
(schema), their errors, and the error shape the access rules and admission share (shape)."""
