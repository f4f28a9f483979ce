"""The text kernel: the one tokenizer, stopword list, stemmer and sentence splitter, and the one calibration file,
that the pipeline and the evals both read. A rule about words or sentences is written here once."""
