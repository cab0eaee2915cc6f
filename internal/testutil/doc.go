// Package testutil holds helpers that several packages' tests share: a
// log buffer safe for concurrent writers, and Linux file-system faults
// (tmpfs mounts, a full or read-only file system, chown refused). Only
// _test.go files import it.
package testutil
