package deploy_test

import (
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/firstline-rotator/firstline-rotator/config"
)

const manifestFile = "kubernetes.yaml"

type object struct {
	Kind     string                `yaml:"kind"`
	Metadata struct{ Name string } `yaml:"metadata"`
	Data     map[string]string     `yaml:"data"`
	Spec     yaml.Node             `yaml:"spec"`
}

type deploymentSpec struct {
	Replicas int `yaml:"replicas"`
	Strategy struct {
		Type string `yaml:"type"`
	} `yaml:"strategy"`
	Template struct {
		Spec podSpec `yaml:"spec"`
	} `yaml:"template"`
}

type podSpec struct {
	SecurityContext struct {
		RunAsNonRoot bool  `yaml:"runAsNonRoot"`
		RunAsUser    int64 `yaml:"runAsUser"`
		RunAsGroup   int64 `yaml:"runAsGroup"`
	} `yaml:"securityContext"`
	Containers []container `yaml:"containers"`
	Volumes    []struct {
		Name string `yaml:"name"`
	} `yaml:"volumes"`
}

type container struct {
	Args  []string `yaml:"args"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
	LivenessProbe  probe `yaml:"livenessProbe"`
	ReadinessProbe probe `yaml:"readinessProbe"`
	VolumeMounts   []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	} `yaml:"volumeMounts"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

// loadManifest returns the objects of the manifest by kind.
func loadManifest(t *testing.T) map[string]object {
	t.Helper()

	file, err := os.Open(manifestFile)
	if err != nil {
		t.Fatalf("open %s: %v", manifestFile, err)
	}
	defer file.Close()

	objects := map[string]object{}
	decoder := yaml.NewDecoder(file)
	for {
		var obj object
		err := decoder.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return objects
		}
		if err != nil {
			t.Fatalf("parse %s: %v", manifestFile, err)
		}
		objects[obj.Kind] = obj
	}
}

func loadDeployment(t *testing.T, objects map[string]object) (deploymentSpec, container) {
	t.Helper()

	obj, ok := objects["Deployment"]
	if !ok {
		t.Fatalf("%s has no Deployment", manifestFile)
	}
	var spec deploymentSpec
	if err := obj.Spec.Decode(&spec); err != nil {
		t.Fatalf("decode Deployment spec: %v", err)
	}
	if len(spec.Template.Spec.Containers) != 1 {
		t.Fatalf("Deployment has %d containers, want 1", len(spec.Template.Spec.Containers))
	}
	return spec, spec.Template.Spec.Containers[0]
}

func TestKubernetes_DeploymentRunsOneLockedDownRotator(t *testing.T) {
	spec, c := loadDeployment(t, loadManifest(t))
	pod := spec.Template.Spec

	if spec.Replicas != 1 || spec.Strategy.Type != "Recreate" {
		t.Errorf("replicas %d strategy %q, want 1 and Recreate (two rotators of one "+
			"account kill each other's tokens)", spec.Replicas, spec.Strategy.Type)
	}
	sc := pod.SecurityContext
	if !sc.RunAsNonRoot || sc.RunAsUser != 65532 || sc.RunAsGroup != 65532 {
		t.Errorf("pod securityContext %+v, want runAsNonRoot as 65532:65532", sc)
	}
	csc := c.SecurityContext
	escalation := csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation
	if !csc.ReadOnlyRootFilesystem || escalation ||
		!slices.Equal(csc.Capabilities.Drop, []string{"ALL"}) {
		t.Errorf("container: readOnlyRootFilesystem %v, privilege escalation %v, "+
			"dropped %q; want true, false, [ALL]",
			csc.ReadOnlyRootFilesystem, escalation, csc.Capabilities.Drop)
	}
	if c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("probes on %q and %q, want /healthz and /readyz",
			c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path)
	}
}

func TestKubernetes_VolumesCoverStateSinksConfigAndSecrets(t *testing.T) {
	spec, c := loadDeployment(t, loadManifest(t))

	var volumes []string
	for _, v := range spec.Template.Spec.Volumes {
		volumes = append(volumes, v.Name)
	}
	mounts := map[string]bool{}
	for _, m := range c.VolumeMounts {
		if !slices.Contains(volumes, m.Name) {
			t.Errorf("mount %s uses volume %q, which the pod does not define", m.MountPath, m.Name)
		}
		mounts[m.MountPath] = m.ReadOnly
	}

	want := map[string]bool{"/config": true, "/secrets": true, "/state": false, "/sinks": false}
	for path, readOnly := range want {
		got, ok := mounts[path]
		if !ok || got != readOnly {
			t.Errorf("mount %s present %v read-only %v, want present and read-only %v",
				path, ok, got, readOnly)
		}
	}
}

func TestKubernetes_ConfigIsValidAndListensOnTheProbedPort(t *testing.T) {
	objects := loadManifest(t)
	_, c := loadDeployment(t, objects)

	data := objects["ConfigMap"].Data["config.yaml"]
	cfg, err := config.Parse(manifestFile+" (ConfigMap config.yaml)", []byte(data),
		config.LoadOptions{})
	if err != nil {
		t.Fatalf("the ConfigMap's config.yaml is not valid:\n%v", err)
	}

	_, port, err := net.SplitHostPort(cfg.HTTP.Listen)
	if err != nil {
		t.Fatalf("http.listen %q: %v", cfg.HTTP.Listen, err)
	}
	if len(c.Ports) != 1 || strconv.Itoa(c.Ports[0].ContainerPort) != port ||
		c.LivenessProbe.HTTPGet.Port != c.Ports[0].Name {
		t.Errorf("config listens on port %s; container ports %+v and probe port %q "+
			"must match it", port, c.Ports, c.LivenessProbe.HTTPGet.Port)
	}
	if !strings.HasPrefix(cfg.HTTP.Listen, "0.0.0.0:") {
		t.Errorf("http.listen %q: probes reach the pod IP, listen on 0.0.0.0", cfg.HTTP.Listen)
	}
	if cfg.StateDir != "/state" {
		t.Errorf("state_dir %q, want the /state volume", cfg.StateDir)
	}
}
