// Package consumers measures what the consumers of a rotated token go
// through: concurrent clients call a protected FIRST LINE endpoint in a
// loop while the rotator replaces the token, once for each delivery mode
// (the local proxy, a file re-read on every request, a file reloaded on a
// signal hook). The package holds only its tests and benchmarks.
package consumers
