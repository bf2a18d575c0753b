--- Call patterns the fuzzers avoid for now, because today's C core crashes
-- on them (issue 13). Each entry names its finding (F<n> in the fuzz
-- findings notes) and a Lua pattern matched against the logged line of a
-- call (what the child writes before making it, e.g.
-- `12 libbpf.map:update(libbpf.map#3[events], 1, {...})`). Remove an entry
-- when its crash is fixed; FUZZ_ALL=1 (`make fuzz FUZZ_ALL=1`) ignores the
-- whole list.
return {
  {id = "F1", pattern = "libbpf%.kernel_btf%.mt%.__gc%(",
   why = "the kernel BTF cache's __gc called by hand frees whatever it is given"},
  {id = "F2", pattern = "iter<libbpf%.vars",
   why = "pairs(obj.vars)'s iterator called by hand with wrong arguments"},
  {id = "F3", pattern = "libbpf%.perfbuf%.__index%(",
   why = "perfbuf's __index called by hand on a non-perfbuf reads it as one (field 'lost')"},
  {id = "F4", pattern = "libbpf%.map:clear%(libbpf%.map#%d+%[[so][au][mt][pe][lr]",
   why = "map:clear() on a perf_event_array never returns (hang, not a crash)"},
  {id = "F5", pattern = "tostring%(libbpf%.[%w_]*buf#",
   why = "tostring() of a ring/perf/user ring buffer after close"},
  {id = "F5", pattern = "libbpf%.[%w_]*buf%.__tostring%(",
   why = "the same, through the metamethod"},
  -- BTF fuzzer (spec/fuzz/btf.lua): the codec trusts the type records
  {id = "F7", pattern = "^mutant %d+ <.-> decode%(",
   why = "btf:decode of a struct whose members lie outside its size: OOB read (also F8: NULL deref)"},
  {id = "F9", pattern = "^mutant %d+ <.-> encode%(",
   why = "btf:encode of a type with a grown array count: stack buffer overflow"},
  {id = "F7", pattern = "^mutant %d+ <.-> find/decode",
   why = "the same, through type names"},
  {id = "F10", pattern = "^mutant %d+ <[^>]*header[^>]*> sizeof%(",
   why = "btf:sizeof with string offsets past the string section: NULL name in is_char_name"},
}
