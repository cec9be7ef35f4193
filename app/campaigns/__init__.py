"""Member-only campaigns, rewards and product reviews (issue 7)."""
