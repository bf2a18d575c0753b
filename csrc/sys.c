#include "util.h"
void lbpf_open_sys(lua_State *L) { (void)L; }
