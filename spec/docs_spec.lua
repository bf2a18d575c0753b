-- `make docs` builds the HTML reference from the LDoc comments.

local function read(path)
  local f = io.open(path)
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

describe("make docs", function()
  it("writes docs/html with every module and the C core's functions", function()
    os.remove("docs/html/index.html")
    local p = io.popen("make --no-print-directory docs 2>&1; echo \"rc=$?\"")
    local out = p:read("a")
    p:close()
    assert.matches("rc=0\n$", out)
    local index = assert(read("docs/html/index.html"), "docs/html/index.html missing")
    for _, mod in ipairs({"libbpf", "libbpf.core", "libbpf.repl", "libbpf.pretty"}) do
      assert.matches('href="modules/' .. mod:gsub("%.", "%%.") .. '.html"', index)
    end
    assert.matches("getting%-started", index)
    local core = assert(read("docs/html/modules/libbpf.core.html"))
    for _, name in ipairs({"open", "open_buffer", "set_print", "object:load", "object:attach",
                           "map:lookup", "map:update", "map:reuse_fd", "program:attach_tracepoint",
                           "program:test_run", "link:destroy"}) do
      assert.matches('<a name = "' .. name:gsub("%p", "%%%0") .. '"', core)
    end
    assert.matches("Dropping a link does", core)
  end)
end)
