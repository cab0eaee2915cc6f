// Package systemd_test checks the systemd unit and sysusers.d file that ship
// in this directory with systemd's own tools.
package systemd_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const (
	unitFile     = "firstline-rotator.service"
	sysusersFile = "firstline-rotator.sysusers"
	installedBin = "/usr/local/bin/firstline-rotator"

	// maxExposure is the highest overall exposure level of
	// `systemd-analyze security` the unit may have. systemd 252 gives 1.1
	// as shipped and 1.8 with the variant for sinks that set owners.
	maxExposure = 2.0
)

// testableUnit writes a copy of the unit whose commands run an executable
// that exists here (this test binary), since systemd-analyze rejects a unit
// whose binary is missing, and returns its path. edit may change the text.
func testableUnit(t *testing.T, edit ...func(string) string) string {
	t.Helper()

	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze is not installed (apt-get install systemd); skipping")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatalf("find test executable: %v", err)
	}

	unit, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatalf("read unit: %v", err)
	}
	if !bytes.Contains(unit, []byte(installedBin)) {
		t.Fatalf("%s does not run %s", unitFile, installedBin)
	}

	path := filepath.Join(t.TempDir(), unitFile)
	text := strings.ReplaceAll(string(unit), installedBin, self)
	for _, e := range edit {
		text = e(text)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatalf("write unit copy: %v", err)
	}
	return path
}

func TestUnit_Verifies(t *testing.T) {
	unit := testableUnit(t)

	out, err := exec.Command("systemd-analyze", "verify", "--man=no", unit).CombinedOutput()

	// verify exits 0 on unknown keys and bad values, so any output fails too.
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify %s: %v\n%s", unitFile, err, out)
	}
}

// documented are the commented settings the unit offers as alternatives.
var documented = regexp.MustCompile(`(?m)^#((LoadCredential|LoadCredentialEncrypted|` +
	`ReadWritePaths|IPAddressDeny|IPAddressAllow)=)`)

// withOwners applies the unit's instructions for sinks that set owners.
func withOwners(text string) string {
	text = strings.Replace(text, "CapabilityBoundingSet=\n",
		"CapabilityBoundingSet=CAP_CHOWN CAP_FOWNER\n", 1)
	text = strings.Replace(text, "AmbientCapabilities=\n",
		"AmbientCapabilities=CAP_CHOWN CAP_FOWNER\n", 1)
	text = strings.Replace(text, "PrivateUsers=yes\n", "", 1)
	return strings.Replace(text, "SystemCallErrorNumber=",
		"SystemCallFilter=@chown\nSystemCallErrorNumber=", 1)
}

func TestUnit_DocumentedAlternativesVerify(t *testing.T) {
	uncomment := func(text string) string { return documented.ReplaceAllString(text, "$1") }
	unit := testableUnit(t, uncomment, withOwners)

	out, err := exec.Command("systemd-analyze", "verify", "--man=no", unit).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify with the alternatives: %v\n%s", err, out)
	}

	text, _ := os.ReadFile(unit)
	for _, want := range []string{"\nLoadCredential=", "\nReadWritePaths=",
		"\nIPAddressDeny=", "CAP_CHOWN CAP_FOWNER\n", "SystemCallFilter=@chown"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("the alternatives did not apply: no %q in the unit", want)
		}
	}
	if strings.Contains(string(text), "\nPrivateUsers=") {
		t.Error("the owners variant still has PrivateUsers=yes")
	}
}

var exposureLine = regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`)

func TestUnit_ExposureScore(t *testing.T) {
	tests := []struct {
		name string
		edit func(string) string
	}{
		{"as shipped", func(text string) string { return text }},
		{"with the owners variant", withOwners},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unit := testableUnit(t, tt.edit)

			score, out := exposure(t, unit)

			t.Logf("exposure level of %s %s: %.1f", unitFile, tt.name, score)
			if score > maxExposure {
				t.Errorf("exposure level %.1f exceeds %.1f:\n%s", score, maxExposure, out)
			}
		})
	}
}

// exposure runs `systemd-analyze security` offline on unit and returns the
// overall exposure level and the full report.
func exposure(t *testing.T, unit string) (float64, []byte) {
	t.Helper()

	cmd := exec.Command("systemd-analyze", "security", "--offline=true", "--no-pager", unit)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security %s: %v\n%s", unitFile, err, out)
	}

	match := exposureLine.FindSubmatch(out)
	if match == nil {
		t.Fatalf("no overall exposure level in:\n%s", out)
	}
	score, err := strconv.ParseFloat(string(match[1]), 64)
	if err != nil {
		t.Fatalf("parse exposure level %q: %v", match[1], err)
	}
	return score, out
}

// settings reads a unit file into "Section.Key" -> values in file order.
func settings(t *testing.T, path string) map[string][]string {
	t.Helper()

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}

	found := map[string][]string{}
	section := ""
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		default:
			key, value, _ := strings.Cut(line, "=")
			found[section+"."+key] = append(found[section+"."+key], value)
		}
	}
	return found
}

func TestUnit_CarriesTheRequiredSettings(t *testing.T) {
	unit := settings(t, unitFile)

	tests := []struct {
		key  string
		want string
	}{
		{"Unit.StartLimitIntervalSec", "10min"},
		{"Unit.StartLimitBurst", "5"},
		{"Service.Type", "notify"},
		{"Service.WatchdogSec", "60s"},
		{"Service.ExecReload", "/bin/kill -HUP $MAINPID"},
		{"Service.Restart", "on-failure"},
		{"Service.Environment", "FIRSTLINE_ROTATOR_CONFIG=/etc/firstline-rotator/config.yaml"},
		{"Service.User", "firstline-rotator"},
		{"Service.StateDirectory", "firstline-rotator"},
		{"Service.StateDirectoryMode", "0700"},
		{"Service.UMask", "0077"},
		{"Service.NoNewPrivileges", "yes"},
		{"Service.ProtectSystem", "strict"},
		{"Service.CapabilityBoundingSet", ""},
		{"Service.AmbientCapabilities", ""},
		{"Service.RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"},
		{"Service.SystemCallFilter", "@system-service"},
	}
	for _, tt := range tests {
		values, ok := unit[tt.key]
		if !ok || !contains(values, tt.want) {
			t.Errorf("%s = %q, want a line %q", tt.key, values, tt.want)
		}
	}
}

func contains(values []string, want string) bool {
	for _, v := range values {
		if v == want {
			return true
		}
	}
	return false
}

func TestSysusers_CreatesASystemUserWithoutShell(t *testing.T) {
	if _, err := exec.LookPath("systemd-sysusers"); err != nil {
		t.Skip("systemd-sysusers is not installed; skipping")
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatalf("make etc: %v", err)
	}
	conf, err := filepath.Abs(sysusersFile)
	if err != nil {
		t.Fatalf("find %s: %v", sysusersFile, err)
	}

	out, err := exec.Command("systemd-sysusers", "--root="+root, conf).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-sysusers: %v\n%s", err, out)
	}

	fields := passwdEntry(t, filepath.Join(root, "etc/passwd"), "firstline-rotator")
	uid, err := strconv.Atoi(fields[2])
	if err != nil || uid == 0 || uid >= 1000 {
		t.Errorf("uid %q, want a system uid between 1 and 999", fields[2])
	}
	if fields[5] != "/var/lib/firstline-rotator" || !strings.HasSuffix(fields[6], "nologin") {
		t.Errorf("home %q shell %q, want /var/lib/firstline-rotator and nologin",
			fields[5], fields[6])
	}
	group, err := os.ReadFile(filepath.Join(root, "etc/group"))
	if err != nil || !strings.Contains(string(group), "firstline-rotator:x:"+fields[3]+":") {
		t.Errorf("group file lacks firstline-rotator with gid %s: %v\n%s", fields[3], err, group)
	}
}

func passwdEntry(t *testing.T, path, name string) []string {
	t.Helper()

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Split(line, ":")
		if len(fields) == 7 && fields[0] == name {
			return fields
		}
	}
	t.Fatalf("%s has no entry for %s:\n%s", path, name, data)
	return nil
}
