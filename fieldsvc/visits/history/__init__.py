"""One terminal, one timeline; one merchant likewise; failure analytics (issue 20)."""
