"""Package data: stylesheets and simulator scenarios."""
