-- Shared by the alert scripts (included, not run on its own): the stored alert document (the state hash's
-- `doc` field) is decoded, checked and encoded back one way. Both return nil for a document cjson cannot
-- handle — or, decoded, one that is not an object with a history list — so a script reports it before any
-- write and never half-applies a change.
local function decodeDoc(raw)
  local ok, doc = pcall(cjson.decode, raw or '')
  if not ok or type(doc) ~= 'table' or type(doc['history']) ~= 'table' then return nil end
  return doc
end

local function encodeDoc(doc)
  local ok, json = pcall(cjson.encode, doc)
  if not ok then return nil end
  return json
end
