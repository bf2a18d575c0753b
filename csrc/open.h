/*
 * open.h - the open function of each file that registers a class or
 * functions: each fills the module table at -1. Only core.c includes this.
 */
#ifndef LBPF_OPEN_H
#define LBPF_OPEN_H

#include "util.h"

#endif
