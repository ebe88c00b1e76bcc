package admin

import (
	"net/http"

	"github.com/imgate/imgate"
)

// What members post to a group: announcements and shared files.

func (s *Server) announcementRoutes() {
	s.handle("/group/announcement", anyToken, s.getAnnouncement, get)
	s.handle("/group/announcement/last", anyToken, s.lastAnnouncement, get)
	s.handle("/group/announcement/list", anyToken, s.listAnnouncements, get)
	s.handle("/group/announcement/edit", anyToken, s.editAnnouncement, post)
	s.handle("/group/announcement/delete", anyToken, s.deleteAnnouncement, post, del)
}

func (s *Server) sharedFileRoutes() {
	s.handle("/group/file", anyToken, s.getSharedFile, get)
	s.handle("/group/file/list", anyToken, s.listSharedFiles, get)
	s.handle("/group/file/upload", anyToken, s.uploadSharedFile, post)
	s.handle("/group/file/update_name", anyToken, s.renameSharedFile, post, put)
	s.handle("/group/file/delete", anyToken, s.deleteSharedFiles, post, del)
}

// announcement is 获取群公告返回内容.
type announcement struct {
	ID        int64  `json:"id"`
	GroupID   int64  `json:"group_id"`
	Title     string `json:"title"`
	Content   string `json:"content"`
	Author    int64  `json:"author"`
	CreatedAt int64  `json:"created_at"`
}

func announcementOf(a imgate.Announcement) announcement {
	return announcement{ID: a.ID, GroupID: a.GroupID, Title: a.Title, Content: a.Content, Author: a.AuthorID,
		CreatedAt: a.CreatedAt.UnixMilli()}
}

// sharedFile is GroupSharedFileDto.
type sharedFile struct {
	FileID    int64  `json:"file_id"`
	GroupID   int64  `json:"group_id"`
	Name      string `json:"name"`
	Size      int64  `json:"size"`
	Type      string `json:"type"`
	URL       string `json:"url"`
	Uploader  int64  `json:"uploader"`
	CreatedAt int64  `json:"created_at"`
	UpdatedAt int64  `json:"updated_at"`
}

func sharedFileOf(f imgate.SharedFile) sharedFile {
	return sharedFile{FileID: f.ID, GroupID: f.GroupID, Name: f.Name, Size: f.Size, Type: f.Type, URL: f.URL,
		Uploader: f.UploaderID, CreatedAt: f.CreatedAt.UnixMilli(), UpdatedAt: f.UpdatedAt.UnixMilli()}
}

// fileResult is GroupSharedFileResponse, one file's outcome of a batch.
type fileResult struct {
	FileID int64  `json:"file_id"`
	Result string `json:"result"` // "success" or "fail"
	Reason string `json:"reason,omitempty"`
}

// Limits of what members post, beyond limits.go's.
const (
	maxTitleLen          = maxTextLen   // announcement titles, in characters
	maxAnnouncementBytes = maxInfoBytes // announcement content, in bytes
	maxFileNameLen       = maxNameLen
	maxFileTypeLen       = maxNameLen
)

var (
	errNoAnnouncement = imgate.Errorf(imgate.CodeAnnouncementNotFound, "announcement not found")
	errNoFile         = imgate.Errorf(imgate.CodeFileNotFound, "shared file not found")
	errFileForbidden  = imgate.Errorf(imgate.CodeFileForbidden, "only the uploader or a group admin may change a shared file")
)

// announcements reads the group named by the query's group_id, for a
// member, with its announcements newest first.
func (s *Server) announcements(r *http.Request, c *call) ([]imgate.Announcement, error) {
	gid, err := groupIDParam(r, c)
	if err != nil {
		return nil, err
	}
	if _, _, _, err := s.readGroup(r.Context(), c, gid, imgate.RoleMember); err != nil {
		return nil, err
	}
	return s.store.Announcements(r.Context(), c.app.ID, gid)
}

// GET /group/announcement?group_id&announcement_id
func (s *Server) getAnnouncement(r *http.Request, c *call) (any, error) {
	aid, err := query{r}.int64("announcement_id", true, 0)
	if err != nil {
		return nil, err
	}
	as, err := s.announcements(r, c)
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		if a.ID == aid {
			return announcementOf(a), nil
		}
	}
	return nil, errNoAnnouncement
}

// GET /group/announcement/last?group_id
func (s *Server) lastAnnouncement(r *http.Request, c *call) (any, error) {
	as, err := s.announcements(r, c)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, errNoAnnouncement
	}
	return announcementOf(as[0]), nil
}

// GET /group/announcement/list?group_id: newest first.
func (s *Server) listAnnouncements(r *http.Request, c *call) (any, error) {
	as, err := s.announcements(r, c)
	if err != nil {
		return nil, err
	}
	out := make([]announcement, len(as))
	for i, a := range as {
		out[i] = announcementOf(a)
	}
	return out, nil
}

// announcementRequest is GroupAnnouncementRequest.
type announcementRequest struct {
	GroupID id      `json:"group_id"`
	Title   *string `json:"title"`
	Content *string `json:"content"`
}

func (req announcementRequest) check() error {
	if req.Title == nil || req.Content == nil || *req.Content == "" {
		return badParam("title and content are required")
	}
	return firstErr(checkLen("title", *req.Title, maxTitleLen), checkBytes("content", *req.Content, maxAnnouncementBytes))
}

// POST /group/announcement/edit {group_id, title, content}: an admin posts
// a new announcement, which becomes the last one.
func (s *Server) editAnnouncement(r *http.Request, c *call) (any, error) {
	var req announcementRequest
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if err := firstErr(fillGroupID(c, &req.GroupID), req.check()); err != nil {
		return nil, err
	}
	var out imgate.Announcement
	err := s.inGroup(r.Context(), c, int64(req.GroupID), imgate.RoleAdmin, func(tx imgate.GroupTx, a actor) error {
		at := groupTime()
		added, err := tx.AddAnnouncement(imgate.Announcement{GroupID: int64(req.GroupID), Title: *req.Title,
			Content: *req.Content, AuthorID: a.userID, CreatedAt: at})
		if err != nil {
			return err
		}
		out = added
		return notifyMembers(tx, changeNotice(imgate.GroupAnnouncementUpdate, a.userID, at, map[string]any{"announcement_id": out.ID}))
	})
	if err != nil {
		return nil, err
	}
	return announcementOf(out), nil
}

// POST|DELETE /group/announcement/delete?group_id&announcement_id: members
// learn of it as ANNOUNCEMENT_UPDATED with deleted set in the content.
func (s *Server) deleteAnnouncement(r *http.Request, c *call) (any, error) {
	gid, err := groupIDParam(r, c)
	if err != nil {
		return nil, err
	}
	aid, err := query{r}.int64("announcement_id", true, 0)
	if err != nil {
		return nil, err
	}
	return nil, s.inGroup(r.Context(), c, gid, imgate.RoleAdmin, func(tx imgate.GroupTx, a actor) error {
		old, ok, err := tx.Announcement(aid)
		if err != nil {
			return err
		}
		if !ok || old.GroupID != gid {
			return errNoAnnouncement
		}
		if err := tx.DeleteAnnouncement(aid); err != nil {
			return err
		}
		change := map[string]any{"announcement_id": aid, "deleted": true}
		return notifyMembers(tx, changeNotice(imgate.GroupAnnouncementUpdate, a.userID, groupTime(), change))
	})
}

// sharedFiles reads the group named by the query's group_id, for a member,
// with its files newest first.
func (s *Server) sharedFiles(r *http.Request, c *call) ([]imgate.SharedFile, error) {
	gid, err := groupIDParam(r, c)
	if err != nil {
		return nil, err
	}
	if _, _, _, err := s.readGroup(r.Context(), c, gid, imgate.RoleMember); err != nil {
		return nil, err
	}
	return s.store.SharedFiles(r.Context(), c.app.ID, gid)
}

// GET /group/file?group_id&file_id
func (s *Server) getSharedFile(r *http.Request, c *call) (any, error) {
	fid, err := query{r}.int64("file_id", true, 0)
	if err != nil {
		return nil, err
	}
	fs, err := s.sharedFiles(r, c)
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		if f.ID == fid {
			return sharedFileOf(f), nil
		}
	}
	return nil, errNoFile
}

// GET /group/file/list?group_id: newest first.
func (s *Server) listSharedFiles(r *http.Request, c *call) (any, error) {
	fs, err := s.sharedFiles(r, c)
	if err != nil {
		return nil, err
	}
	out := make([]sharedFile, len(fs))
	for i, f := range fs {
		out[i] = sharedFileOf(f)
	}
	return out, nil
}

// sharedFileRequest is GroupSharedFileRequest.
type sharedFileRequest struct {
	GroupID id     `json:"group_id"`
	Name    string `json:"name"`
	Size    *int64 `json:"size"`
	Type    string `json:"type"`
	URL     string `json:"url"`
}

func (req sharedFileRequest) check() error {
	if req.Size == nil || *req.Size < 0 {
		return badParam("size is required and may not be negative")
	}
	if req.URL == "" {
		return badParam("url is required")
	}
	return firstErr(checkFileName(req.Name), checkLen("type", req.Type, maxFileTypeLen), checkLen("url", req.URL, maxURLLen))
}

// POST /group/file/upload {group_id, name, size, type, url}: a member
// records a file stored elsewhere, at url.
func (s *Server) uploadSharedFile(r *http.Request, c *call) (any, error) {
	var req sharedFileRequest
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if err := firstErr(fillGroupID(c, &req.GroupID), req.check()); err != nil {
		return nil, err
	}
	var out imgate.SharedFile
	err := s.inGroup(r.Context(), c, int64(req.GroupID), imgate.RoleMember, func(tx imgate.GroupTx, a actor) error {
		at := groupTime()
		added, err := tx.AddSharedFile(imgate.SharedFile{GroupID: int64(req.GroupID), Name: req.Name, Size: *req.Size,
			Type: req.Type, URL: req.URL, UploaderID: a.userID, CreatedAt: at, UpdatedAt: at})
		if err != nil {
			return err
		}
		out = added
		return notifyMembers(tx, changeNotice(imgate.GroupFileUploaded, a.userID, at, map[string]any{"file_id": out.ID, "name": out.Name}))
	})
	if err != nil {
		return nil, err
	}
	return sharedFileOf(out), nil
}

// POST|PUT /group/file/update_name {group_id, file_id, name}: the uploader
// or an admin renames a file.
func (s *Server) renameSharedFile(r *http.Request, c *call) (any, error) {
	var req struct {
		GroupID id     `json:"group_id"`
		FileID  id     `json:"file_id"`
		Name    string `json:"name"`
	}
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if err := firstErr(fillGroupID(c, &req.GroupID), checkFileName(req.Name)); err != nil {
		return nil, err
	}
	err := s.inGroup(r.Context(), c, int64(req.GroupID), imgate.RoleMember, func(tx imgate.GroupTx, a actor) error {
		f, err := fileToChange(tx, a, int64(req.FileID))
		if err != nil {
			return err
		}
		f.Name, f.UpdatedAt = req.Name, groupTime()
		if err := tx.SaveSharedFile(f); err != nil {
			return err
		}
		return notifyMembers(tx, changeNotice(imgate.GroupFileUpdated, a.userID, f.UpdatedAt, map[string]any{"file_id": f.ID, "name": f.Name}))
	})
	return true, err
}

// POST|DELETE /group/file/delete {group_id, file_list}: each file the
// caller may delete (its uploader or an admin) is deleted; the others
// fail with the reason. Members learn of the deleted ones in one
// FILE_DELETED notice.
func (s *Server) deleteSharedFiles(r *http.Request, c *call) (any, error) {
	var req struct {
		GroupID  id   `json:"group_id"`
		FileList []id `json:"file_list"`
	}
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if err := firstErr(fillGroupID(c, &req.GroupID), s.checkList("file_list", len(req.FileList))); err != nil {
		return nil, err
	}
	var out []fileResult
	err := s.inGroup(r.Context(), c, int64(req.GroupID), imgate.RoleMember, func(tx imgate.GroupTx, a actor) error {
		var deleted []int64
		out = out[:0] // a store may run fn again
		for _, fid := range ids(req.FileList) {
			err := deleteSharedFile(tx, a, fid)
			if imgate.ErrorCode(err) == imgate.CodeStore {
				return err
			}
			out = append(out, fileResultOf(fid, err))
			if err == nil {
				deleted = append(deleted, fid)
			}
		}
		if len(deleted) == 0 {
			return nil
		}
		return notifyMembers(tx, changeNotice(imgate.GroupFileDeleted, a.userID, groupTime(), map[string]any{"file_list": deleted}))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func deleteSharedFile(tx imgate.GroupTx, a actor, fid int64) error {
	if _, err := fileToChange(tx, a, fid); err != nil {
		return err
	}
	return tx.DeleteSharedFile(fid)
}

// fileToChange returns a file of the group that the actor, a member, may
// change: CodeFileNotFound, CodeFileForbidden.
func fileToChange(tx imgate.GroupTx, a actor, fid int64) (imgate.SharedFile, error) {
	f, ok, err := tx.SharedFile(fid)
	if err != nil {
		return imgate.SharedFile{}, err
	}
	if !ok || f.GroupID != tx.Group().ID {
		return imgate.SharedFile{}, errNoFile
	}
	if a.role < imgate.RoleAdmin && f.UploaderID != a.userID {
		return imgate.SharedFile{}, errFileForbidden
	}
	return f, nil
}

func fileResultOf(fid int64, err error) fileResult {
	if err != nil {
		return fileResult{FileID: fid, Result: "fail", Reason: imgate.ErrorMessage(err)}
	}
	return fileResult{FileID: fid, Result: "success"}
}

func checkFileName(name string) error {
	if name == "" {
		return badParam("name is required")
	}
	return checkLen("name", name, maxFileNameLen)
}
