"""Forums: categories, topics, posts, likes, Markdown, tags, read tracking, views, search."""
