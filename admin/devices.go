package admin

import (
	"net/http"

	"github.com/imgate/imgate"
)

// GET /user/device/list
func (s *Server) listDevices(r *http.Request, c *call) (any, error) {
	ds, err := s.store.Devices(r.Context(), c.app.ID, c.userID)
	if err != nil {
		return nil, err
	}
	out := make([]device, len(ds))
	for i, d := range ds {
		out[i] = device{UserID: d.UserID, DeviceSN: d.SN, Platform: int(d.Platform), UserAgent: d.UserAgent}
	}
	return list{Data: out}, nil
}

// deviceSN reads a device serial number from the query and checks that
// the acting user has that device.
func (s *Server) deviceSN(r *http.Request, c *call, param string) (uint32, error) {
	n, err := query{r}.int64(param, true, 0)
	if err != nil {
		return 0, err
	}
	if n <= 0 || n > 1<<32-1 {
		return 0, imgate.ErrDeviceNotFound
	}
	if _, err := s.store.Device(r.Context(), c.app.ID, c.userID, uint32(n)); err != nil {
		return 0, err
	}
	return uint32(n), nil
}

// POST|DELETE /user/device/remove?device_sn=: forgets the device and
// closes its session.
func (s *Server) removeDevice(r *http.Request, c *call) (any, error) {
	sn, err := s.deviceSN(r, c, "device_sn")
	if err != nil {
		return nil, err
	}
	if err := s.store.DeleteDevice(r.Context(), c.app.ID, c.userID, sn); err != nil {
		return nil, err
	}
	return true, s.sessions.Kick(r.Context(), c.app.ID, c.userID, sn, imgate.UserDeviceRemoved)
}

// POST|PUT /user/kick[?device_sn=]: without device_sn, every device.
func (s *Server) kick(r *http.Request, c *call) (any, error) {
	var sn uint32
	if (query{r}).has("device_sn") {
		var err error
		if sn, err = s.deviceSN(r, c, "device_sn"); err != nil {
			return nil, err
		}
	}
	return true, s.sessions.Kick(r.Context(), c.app.ID, c.userID, sn, imgate.UserKickedByOtherDevice)
}

// GET /user/online_status
func (s *Server) onlineStatus(r *http.Request, c *call) (any, error) {
	online, err := s.sessions.Online(r.Context(), c.app.ID, c.userID)
	if err != nil {
		return nil, err
	}
	return struct {
		Online bool `json:"online"`
	}{online}, nil
}

// POST|PUT /user/token/bind {device_sn, device_token, notifier_name}
func (s *Server) bindPushToken(r *http.Request, c *call) (any, error) {
	var req struct {
		DeviceSN     id     `json:"device_sn"`
		DeviceToken  string `json:"device_token"`
		NotifierName string `json:"notifier_name"`
	}
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if req.DeviceToken == "" || req.NotifierName == "" {
		return nil, badParam("device_token and notifier_name are required")
	}
	if err := firstErr(checkLen("device_token", req.DeviceToken, maxURLLen), checkLen("notifier_name", req.NotifierName, maxNameLen)); err != nil {
		return nil, err
	}
	if req.DeviceSN <= 0 || req.DeviceSN > 1<<32-1 {
		return nil, imgate.ErrDeviceNotFound
	}
	_, err := s.store.UpdateDevice(r.Context(), c.app.ID, c.userID, uint32(req.DeviceSN), func(d *imgate.Device) error {
		d.DeviceToken, d.NotifierName = req.DeviceToken, req.NotifierName
		return nil
	})
	if err != nil {
		return nil, err
	}
	return true, nil
}

// POST|DELETE /user/token/unbind?deviceSn=
func (s *Server) unbindPushToken(r *http.Request, c *call) (any, error) {
	sn, err := s.deviceSN(r, c, "deviceSn")
	if err != nil {
		return nil, err
	}
	_, err = s.store.UpdateDevice(r.Context(), c.app.ID, c.userID, sn, func(d *imgate.Device) error {
		d.DeviceToken, d.NotifierName = "", ""
		return nil
	})
	if err != nil {
		return nil, err
	}
	return true, nil
}
