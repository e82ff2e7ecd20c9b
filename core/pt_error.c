/* Error strings: one table, generated from PT_ERRNO_MAP so names, values and
 * texts can never drift apart. */
#include "pt_core.h"

const char *pt_strerror(int err)
{
    switch (err) {
#define PT_ERR_TEXT_(name, val, text) \
    case val:                         \
        return text;
        PT_ERRNO_MAP(PT_ERR_TEXT_)
#undef PT_ERR_TEXT_
    }
    return "unknown error";
}

const char *pt_errname(int err)
{
    switch (err) {
#define PT_ERR_NAME_(name, val, text) \
    case val:                         \
        return #name;
        PT_ERRNO_MAP(PT_ERR_NAME_)
#undef PT_ERR_NAME_
    }
    return "PT_EUNKNOWN";
}
