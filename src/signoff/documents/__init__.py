"""Documents generated from requests: Word templates with `$name` placeholders."""
