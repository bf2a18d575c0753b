-- Every Lua snippet in README.md and docs/*.md runs as written (issue 19).
-- A snippet is a fenced ```lua block; it runs alone, from the checkout
-- root, in a fresh lua5.4 with the checkout's module. A `--> text` comment
-- on a line says what that line prints: the printed lines must be those
-- texts, in order (`...` in a text matches anything). Blocks that only
-- list names (the API at a glance) are fenced ```text and not run.

local ROOT = assert(os.getenv("PWD"))

local function read(path)
  local f = assert(io.open(path))
  local s = f:read("a")
  f:close()
  return s
end

-- {file=, line=, code=, expect={...}} for every ```lua block of `path`
local function snippets(path)
  local out, n, block = {}, 0, nil
  for line in (read(path) .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    if block then
      if line:match("^```%s*$") then
        out[#out + 1] = block
        block = nil
      else
        block.code[#block.code + 1] = line
        local expect = line:match("%-%->%s?(.*)$")
        if expect then block.expect[#block.expect + 1] = expect end
      end
    elseif line:match("^```lua%s*$") then
      block = {file = path, line = n + 1, code = {}, expect = {}}
    end
  end
  assert(not block, path .. ": a ```lua block is not closed")
  return out
end

local function doc_files()
  local files = {"README.md"}
  local p = io.popen("ls " .. ROOT .. "/docs/*.md")
  for f in p:lines() do files[#files + 1] = f:sub(#ROOT + 2) end
  p:close()
  return files
end

-- `expect` as a pattern: literal text, `...` matching anything
local function pattern(expect)
  local parts, pos = {}, 1
  while true do
    local s, e = expect:find("...", pos, true)
    parts[#parts + 1] = (expect:sub(pos, s and s - 1 or -1):gsub("%p", "%%%0"))
    if not s then break end
    pos = e + 1
  end
  return "^" .. table.concat(parts, ".-") .. "$"
end

local function run(snippet)
  local file = os.tmpname()
  local f = assert(io.open(file, "w"))
  f:write(table.concat(snippet.code, "\n"), "\n")
  f:close()
  local p = io.popen(("cd %s && timeout 60 lua5.4 %s 2>&1; echo \"rc=$?\""):format(ROOT, file))
  local out = p:read("a")
  p:close()
  os.remove(file)
  local rc = tonumber(out:match("rc=(%d+)\n$"))
  return out:gsub("rc=%d+\n$", ""), rc
end

describe("documentation snippets", function()
  local all = {}
  for _, path in ipairs(doc_files()) do
    for _, s in ipairs(snippets(path)) do all[#all + 1] = s end
  end

  it("are found (README and the getting-started guide have some)", function()
    local by_file = {}
    for _, s in ipairs(all) do by_file[s.file] = (by_file[s.file] or 0) + 1 end
    assert.is_true((by_file["README.md"] or 0) >= 2)
    assert.is_true((by_file["docs/getting-started.md"] or 0) >= 3)
  end)

  for _, s in ipairs(all) do
    it(("%s:%d runs and prints what it says"):format(s.file, s.line), function()
      local out, rc = run(s)
      assert.equal(0, rc, ("%s:%d failed:\n%s"):format(s.file, s.line, out))
      local lines = {}
      for l in out:gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
      assert.equal(#s.expect, #lines, ("%s:%d printed:\n%s"):format(s.file, s.line, out))
      for i, e in ipairs(s.expect) do
        assert.matches(pattern(e), lines[i], 1, false,
          ("%s:%d line %d"):format(s.file, s.line, i))
      end
    end)
  end
end)
