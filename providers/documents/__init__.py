"""Reading a user's documents (HTML, Markdown, PDF, text) into titled sections the knowledge base stores."""
