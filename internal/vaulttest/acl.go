package vaulttest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/vault/sdk/logical"
)

// Rule grants capabilities on the API paths matching Path, like one path
// block of a Vault policy. Path may end in "*" (any suffix) and contain "+"
// (one path segment). Capabilities are "create", "read", "update",
// "patch", "delete", "list", "sudo" and "deny".
type Rule struct {
	Path         string
	Capabilities []string
}

// capability is a set of Vault capabilities as bits.
type capability uint16

const (
	capCreate capability = 1 << iota
	capRead
	capUpdate
	capPatch
	capDelete
	capList
	capSudo
	capDeny
)

// capabilityNames maps policy words to capability bits.
var capabilityNames = map[string]capability{
	"create": capCreate, "read": capRead, "update": capUpdate, "patch": capPatch,
	"delete": capDelete, "list": capList, "sudo": capSudo, "deny": capDeny,
}

// operationCapability is the capability each operation needs.
var operationCapability = map[logical.Operation]capability{
	logical.CreateOperation: capCreate,
	logical.ReadOperation:   capRead,
	logical.UpdateOperation: capUpdate,
	logical.PatchOperation:  capPatch,
	logical.DeleteOperation: capDelete,
	logical.ListOperation:   capList,
}

// SetPolicy creates or replaces the ACL policy name. Tokens name policies
// when they are created and see changes at once. Every token also carries
// "default", which allows auth/token/lookup-self (read),
// auth/token/renew-self and auth/token/revoke-self (update) and
// sys/wrapping/unwrap (update); SetPolicy("default", ...) replaces it. An
// unknown capability or a "*" before the end of a path panics.
func (s *Server) SetPolicy(name string, rules []Rule) {
	if name == "root" || name == "" {
		panic(fmt.Sprintf("vaulttest: SetPolicy(%q): the policy name is reserved or empty", name))
	}

	for _, r := range rules {
		mustValidGlob("SetPolicy("+name+")", r.Path)
		for _, c := range r.Capabilities {
			if _, ok := capabilityNames[c]; !ok {
				panic(fmt.Sprintf("vaulttest: SetPolicy(%q): path %q: unknown capability %q",
					name, r.Path, c))
			}
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.policies[name] = slices.Clone(rules)
}

// defaultPolicy returns the part of Vault's default policy the server
// serves.
func defaultPolicy() []Rule {
	return []Rule{
		{Path: "auth/token/lookup-self", Capabilities: []string{"read"}},
		{Path: "auth/token/renew-self", Capabilities: []string{"update"}},
		{Path: "auth/token/revoke-self", Capabilities: []string{"update"}},
		{Path: "sys/wrapping/unwrap", Capabilities: []string{"update"}},
	}
}

// aclFor merges the rules of the token's policies by path, as Vault does:
// capabilities add up, and "deny" on a path removes all others. The caller
// holds s.mu.
func (s *Server) aclFor(te *tokenEntry) map[string]capability {
	acl := map[string]capability{}
	for _, name := range te.policies {
		for _, r := range s.policies[name] {
			for _, c := range r.Capabilities {
				acl[r.Path] |= capabilityNames[c]
			}
		}
	}

	if te.denyRenewSelf {
		acl["auth/token/renew-self"] |= capDeny
	}

	for path, caps := range acl {
		if caps&capDeny != 0 {
			acl[path] = capDeny
		}
	}

	return acl
}

// allowed reports whether the token may run op on path: root may do
// anything; otherwise the most specific matching rule decides. The caller
// holds s.mu.
func (s *Server) allowed(te *tokenEntry, path string, op logical.Operation) bool {
	if te.isRoot() {
		return true
	}

	best, found := "", false
	acl := s.aclFor(te)
	for pattern := range acl {
		if globMatch(pattern, path) && (!found || morePrecise(pattern, best)) {
			best, found = pattern, true
		}
	}

	caps := acl[best]
	return found && caps&capDeny == 0 && caps&operationCapability[op] != 0
}

// hasMountAccess reports whether any rule of the token grants something
// under mountPath, which Vault requires before it describes a mount in
// sys/internal/ui/mounts. The caller holds s.mu.
func (s *Server) hasMountAccess(te *tokenEntry, mountPath string) bool {
	if te.isRoot() {
		return true
	}

	for pattern, caps := range s.aclFor(te) {
		if caps&capDeny == 0 && caps != 0 && couldMatchUnder(pattern, mountPath) {
			return true
		}
	}

	return false
}

// morePrecise reports whether policy path a wins over b when both match,
// following Vault's documented priority: the later first wildcard wins, then
// no trailing "*", then fewer "+" segments, then the longer path, then the
// lexically greater one.
func morePrecise(a, b string) bool {
	wa, wb := firstWildcard(a), firstWildcard(b)
	if wa != wb {
		return wa > wb
	}

	ga, gb := strings.HasSuffix(a, "*"), strings.HasSuffix(b, "*")
	if ga != gb {
		return gb
	}

	pa, pb := strings.Count(a, "+"), strings.Count(b, "+")
	if pa != pb {
		return pa < pb
	}

	if len(a) != len(b) {
		return len(a) > len(b)
	}

	return a > b
}

// firstWildcard returns the index of the first "+" or "*", or len(p).
func firstWildcard(p string) int {
	if i := strings.IndexAny(p, "+*"); i >= 0 {
		return i
	}

	return len(p)
}

// globMatch reports whether path matches the policy-style pattern: literal
// characters, "+" for one segment and a trailing "*" for any suffix.
func globMatch(pattern, path string) bool {
	for len(pattern) > 0 {
		switch {
		case pattern == "*":
			return true
		case pattern[0] == '+':
			end := strings.IndexByte(path, '/')
			if end < 0 {
				end = len(path)
			}
			pattern, path = pattern[1:], path[end:]
		case path == "" || pattern[0] != path[0]:
			return false
		default:
			pattern, path = pattern[1:], path[1:]
		}
	}

	return path == ""
}

// couldMatchUnder reports whether pattern matches some path that starts
// with prefix.
func couldMatchUnder(pattern, prefix string) bool {
	for len(prefix) > 0 {
		switch {
		case pattern == "":
			return false
		case pattern == "*":
			return true
		case pattern[0] == '+':
			end := strings.IndexByte(prefix, '/')
			if end < 0 {
				return true
			}
			pattern, prefix = pattern[1:], prefix[end:]
		case pattern[0] != prefix[0]:
			return false
		default:
			pattern, prefix = pattern[1:], prefix[1:]
		}
	}

	return true
}

// mustValidGlob panics when a glob has a "*" before its end.
func mustValidGlob(caller, glob string) {
	if i := strings.IndexByte(glob, '*'); i >= 0 && i != len(glob)-1 {
		panic(fmt.Sprintf("vaulttest: %s: path %q: \"*\" is only allowed at the end",
			caller, glob))
	}
}
