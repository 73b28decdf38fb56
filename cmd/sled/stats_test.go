package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/sledgo/sled"
)

func TestStats(t *testing.T) {
	forEachHarness(t, func(t *testing.T, h *harness) {
		h.ok("insert", "-path", h.path, "-tree", "t2", "k", "v")
		out := h.ok("stats", "-path", h.path, "-tree", "t2")
		for _, want := range []string{"tree ", "entries ", "trees ", "pages ", "cache bytes ", "page updates ",
			"page images ", "page fragments ", "size on disk "} {
			if !strings.Contains(out, "\n"+want) && !strings.HasPrefix(out, want) {
				t.Errorf("stats lacks %q:\n%s", want, out)
			}
		}
		if !regexp.MustCompile(`(?m)^tree +t2$`).MatchString(out) || !regexp.MustCompile(`(?m)^entries +1$`).MatchString(out) {
			t.Errorf("stats of t2:\n%s", out)
		}
	})
}

func TestStatsUsage(t *testing.T) {
	if code, _, errOut := runArgs("stats", "-path", "db", "extra"); code != exitUsage || !strings.Contains(errOut, "usage: sled stats") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestStatsJSON(t *testing.T) {
	forEachHarness(t, func(t *testing.T, h *harness) {
		h.ok("insert", "-path", h.path, "-tree", "t2", "k", "v")
		out := h.ok("stats", "-path", h.path, "-tree", "t2", "-json")
		var got map[string]any
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		for name, want := range map[string]any{"Tree": "t2", "Entries": 1.0, "Trees": 2.0, "BackgroundErrors": 0.0, "BackgroundError": nil} {
			if v, ok := got[name]; !ok || v != want {
				t.Errorf("%s = %v (present %v), want %v", name, v, ok, want)
			}
		}
		// Every field of sled.Stats is there, by its Go name.
		st := reflect.TypeOf(sled.Stats{})
		for i := 0; i < st.NumField(); i++ {
			if _, ok := got[st.Field(i).Name]; !ok {
				t.Errorf("no %s in:\n%s", st.Field(i).Name, out)
			}
		}
		if len(got) != st.NumField()+2 {
			t.Errorf("%d fields, want Tree, Entries and the %d of sled.Stats:\n%s", len(got), st.NumField(), out)
		}
	})
}

// A background error prints as its message; none as null.
func TestStatsJSONBackgroundError(t *testing.T) {
	var out bytes.Buffer
	if err := writeStatsJSON(&env{stdout: &out}, "t", 0, sled.Stats{BackgroundError: errors.New("disk on fire")}); err != nil {
		t.Fatal(err)
	}
	var got struct{ BackgroundError *string }
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || got.BackgroundError == nil || *got.BackgroundError != "disk on fire" {
		t.Errorf("%v, %v:\n%s", err, got.BackgroundError, out.String())
	}
}
