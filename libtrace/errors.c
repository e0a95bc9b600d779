/* errors.c - error texts. */
#include "trace_impl.h"

#define TRACE_ERROR_TEXT(name, num, text) [num] = text,
static const char *const texts[] = { TRACE_ERRORS(TRACE_ERROR_TEXT) };
#undef TRACE_ERROR_TEXT

const char *
trace_strerror(int err)
{
	if (err < 0 || (size_t)err >= TRACE_ARRAY_LEN(texts) ||
	    texts[err] == NULL)
		return "unknown error";
	return texts[err];
}
