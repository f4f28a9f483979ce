"""Chat models: endpoints per role, the embedded llama.cpp server and its model file, failures and repairs."""
