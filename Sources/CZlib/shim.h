// The system zlib (libz), for reading gzip-compressed files (PyTorch profiler .json.gz traces).
#include <zlib.h>
