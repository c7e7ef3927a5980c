"""The HTTP surface: the app and its routes (api, documents, openai/, metrics, page),
the middleware that runs before any route (admission; security with keys, throttle and
headers), how errors become statuses, and the server. It knows the engine (qa.engine) and
the answers of the read pipeline (qa.read); nothing below it imports it."""
