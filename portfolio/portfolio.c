/* placeholder: replaced by the module's implementation */
typedef int pt_placeholder_29973;
