"""Questions and answers: votes on posts in Q&A categories and accepted answers."""
