"""Remote targets: OpenAI-compatible model servers (vLLM, llama.cpp, Ollama, TGI, transformers serve) that healthmon
watches over HTTP instead of loading the model itself."""
