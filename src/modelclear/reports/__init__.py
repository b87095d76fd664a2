"""Report renderers: turn analysis results into terminal, JSON, Markdown, HTML, SARIF."""
