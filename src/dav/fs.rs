//! `SpacesFs`: dav-server's `GuardedFileSystem` over one space of the storage core.
//!
//! Paths are the dav-server paths below the URL prefix, joined onto the request's base folder.
//! Writes need an editor role; a PUT is staged in a fresh blob and committed by
//! [`super::file::PutFile`] only when every byte arrived.

use std::time::SystemTime;

use dav_server::davpath::DavPath;
use dav_server::fs::{
    DavDirEntry, DavFile, DavMetaData, DavProp, FsError, FsFuture, FsResult, FsStream,
    GuardedFileSystem, OpenOptions, ReadDirMeta,
};
use futures::FutureExt;
use http::StatusCode;

use super::file::{GetFile, PutFile};
use super::fs_meta::{NodeMeta, failed};
use super::headers::NS_OC;
use super::props;
use super::request_ctx::ReqCtx;
use crate::spaces::{CopyDepth, CopySpec, Node, Overwrite, SpacePath, Store};

/// The filesystem; one per process, the space comes with each request's [`ReqCtx`].
#[derive(Clone)]
pub struct SpacesFs {
    /// The storage core.
    pub store: Store,
}

struct Entry(Node);

impl DavDirEntry for Entry {
    fn name(&self) -> Vec<u8> {
        self.0.name.clone().into_bytes()
    }
    fn metadata(&self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        let meta: Box<dyn DavMetaData> = Box::new(NodeMeta(self.0.clone()));
        futures::future::ready(Ok(meta)).boxed()
    }
}

/// The space path of a dav-server path in this request.
pub fn space_path(ctx: &ReqCtx, path: &DavPath) -> FsResult<SpacePath> {
    let s = std::str::from_utf8(path.as_bytes()).map_err(|_| FsError::NotFound)?;
    let rel = SpacePath::parse(s).map_err(|_| FsError::Forbidden)?;
    Ok(ctx.base.join(&rel))
}

fn writable(ctx: &ReqCtx) -> FsResult<()> {
    if ctx.role.can_write() {
        Ok(())
    } else {
        Err(FsError::Forbidden)
    }
}

impl SpacesFs {
    async fn resolve(&self, ctx: &ReqCtx, path: &DavPath) -> FsResult<Node> {
        let p = space_path(ctx, path)?;
        self.store
            .resolve(ctx.space, &p)
            .await
            .map_err(|e| failed(ctx, e))
    }

    async fn open_write(
        &self,
        path: &DavPath,
        options: OpenOptions,
        ctx: &ReqCtx,
    ) -> FsResult<Box<dyn DavFile>> {
        writable(ctx)?;
        let p = space_path(ctx, path)?;
        if p.is_root() {
            return Err(FsError::Forbidden);
        }
        // A plain PUT of a content the commit stores inline is read before anything is
        // checked: the commit checks the folder, the target and the quota in its transaction
        // anyway (answering as below), and reading a few KiB costs less than a statement of
        // its own on a pooled connection (sequential 1 KiB PUTs: 706-720 -> 831-865 per
        // second, 17% less server CPU). A larger body is refused before it arrives.
        if options.create
            && options.truncate
            && !options.create_new
            && options.size.is_some_and(|n| n <= self.store.inline_max())
        {
            let file = PutFile::start(self.store.clone(), ctx.clone(), p, options).await?;
            return Ok(Box::new(file));
        }
        // The target, its folder and the quota in one statement (a missing folder: 404/409).
        let (existing, quota) = match self.store.write_target(ctx.space, &p).await {
            Ok(t) => t,
            Err(e) => return Err(failed(ctx, e)),
        };
        match &existing {
            Some(n) if n.is_folder() => return Err(FsError::Forbidden),
            Some(_) if options.create_new => return Err(FsError::Exists),
            Some(_) => {}
            None if !options.create => return Err(FsError::NotFound),
            None => {}
        }
        let old_size = existing.as_ref().map_or(0, |n| n.size);
        if let Some(size) = options.size
            && !quota.fits(size.saturating_sub(old_size))
        {
            return Err(FsError::InsufficientStorage);
        }
        let mut file = PutFile::start(self.store.clone(), ctx.clone(), p, options.clone()).await?;
        // LOCK on an unmapped URL creates an empty resource (RFC 4918 §7.3) without writing.
        if existing.is_none() && !options.truncate {
            file.commit_now().await?;
        }
        Ok(Box::new(file))
    }
}

impl GuardedFileSystem<ReqCtx> for SpacesFs {
    fn open<'a>(
        &'a self,
        path: &'a DavPath,
        options: OpenOptions,
        ctx: &'a ReqCtx,
    ) -> FsFuture<'a, Box<dyn DavFile>> {
        async move {
            if options.write || options.append || options.create || options.truncate {
                return self.open_write(path, options, ctx).await;
            }
            let node = self.resolve(ctx, path).await?;
            if node.is_folder() {
                return Err(FsError::Forbidden);
            }
            let file: Box<dyn DavFile> = Box::new(GetFile::new(self.store.clone(), node));
            Ok(file)
        }
        .boxed()
    }

    fn read_dir<'a>(
        &'a self,
        path: &'a DavPath,
        _meta: ReadDirMeta,
        ctx: &'a ReqCtx,
    ) -> FsFuture<'a, FsStream<Box<dyn DavDirEntry>>> {
        async move {
            let node = self.resolve(ctx, path).await?;
            let children = self
                .store
                .children(node.id)
                .await
                .map_err(|e| failed(ctx, e))?;
            let entries = children.into_iter().map(|n| {
                let e: Box<dyn DavDirEntry> = Box::new(Entry(n));
                Ok(e)
            });
            let stream: FsStream<Box<dyn DavDirEntry>> = Box::pin(futures::stream::iter(entries));
            Ok(stream)
        }
        .boxed()
    }

    fn metadata<'a>(
        &'a self,
        path: &'a DavPath,
        ctx: &'a ReqCtx,
    ) -> FsFuture<'a, Box<dyn DavMetaData>> {
        async move {
            if ctx.put.commit_checks_only {
                return Err(FsError::NotFound);
            }
            let meta: Box<dyn DavMetaData> = Box::new(NodeMeta(self.resolve(ctx, path).await?));
            Ok(meta)
        }
        .boxed()
    }

    fn create_dir<'a>(&'a self, path: &'a DavPath, ctx: &'a ReqCtx) -> FsFuture<'a, ()> {
        async move {
            writable(ctx)?;
            let p = space_path(ctx, path)?;
            let node = self
                .store
                .create_folder(ctx.space, &p)
                .await
                .map_err(|e| failed(ctx, e))?;
            ctx.set_node(node);
            Ok(())
        }
        .boxed()
    }

    fn remove_dir<'a>(&'a self, path: &'a DavPath, ctx: &'a ReqCtx) -> FsFuture<'a, ()> {
        self.remove_file(path, ctx)
    }

    fn remove_file<'a>(&'a self, path: &'a DavPath, ctx: &'a ReqCtx) -> FsFuture<'a, ()> {
        async move {
            writable(ctx)?;
            let p = space_path(ctx, path)?;
            if ctx.move_onto.as_ref().is_some_and(|d| p.starts_with(d)) {
                return Ok(());
            }
            self.store
                .delete(ctx.space, &p)
                .await
                .map_err(|e| failed(ctx, e))?;
            Ok(())
        }
        .boxed()
    }

    fn rename<'a>(
        &'a self,
        from: &'a DavPath,
        to: &'a DavPath,
        ctx: &'a ReqCtx,
    ) -> FsFuture<'a, ()> {
        async move {
            writable(ctx)?;
            let (f, t) = (space_path(ctx, from)?, space_path(ctx, to)?);
            let (node, _) = self
                .store
                .rename(ctx.space, &f, &t, true)
                .await
                .map_err(|e| failed(ctx, e))?;
            ctx.set_node(node);
            Ok(())
        }
        .boxed()
    }

    fn copy<'a>(&'a self, from: &'a DavPath, to: &'a DavPath, ctx: &'a ReqCtx) -> FsFuture<'a, ()> {
        async move {
            writable(ctx)?;
            let (f, t) = (space_path(ctx, from)?, space_path(ctx, to)?);
            // dav-server copies a tree member by member, and has already cleared an existing
            // destination it may overwrite.
            let spec = CopySpec {
                overwrite: Overwrite::Replace,
                depth: CopyDepth::NodeOnly,
                dead_props: true,
                mtime: None,
            };
            let (node, _) = self
                .store
                .copy(ctx.space, &f, &t, &spec)
                .await
                .map_err(|e| failed(ctx, e))?;
            ctx.set_node(node);
            Ok(())
        }
        .boxed()
    }

    fn set_modified<'a>(
        &'a self,
        path: &'a DavPath,
        tm: SystemTime,
        ctx: &'a ReqCtx,
    ) -> FsFuture<'a, ()> {
        async move {
            writable(ctx)?;
            let node = self.resolve(ctx, path).await?;
            self.store
                .set_mtime(node.id, tm.into())
                .await
                .map_err(|e| failed(ctx, e))?;
            Ok(())
        }
        .boxed()
    }

    fn have_props<'a>(
        &'a self,
        _path: &'a DavPath,
        _ctx: &'a ReqCtx,
    ) -> std::pin::Pin<Box<dyn Future<Output = bool> + Send + 'a>> {
        Box::pin(futures::future::ready(true))
    }

    fn patch_props<'a>(
        &'a self,
        path: &'a DavPath,
        patch: Vec<(bool, DavProp)>,
        ctx: &'a ReqCtx,
    ) -> FsFuture<'a, Vec<(StatusCode, DavProp)>> {
        async move {
            let node = self.resolve(ctx, path).await?;
            // All or nothing (RFC 4918 §9.2): one refused property fails the others with 424.
            let refused = |(_, p): &(bool, DavProp)| {
                let ns = p.namespace.as_deref().unwrap_or("");
                let favorite = ns == NS_OC && p.name == "favorite";
                !favorite && (ns == NS_OC || !ctx.role.can_write())
            };
            if patch.iter().any(refused) {
                return Ok(patch
                    .into_iter()
                    .map(|item| {
                        let status = if refused(&item) {
                            StatusCode::FORBIDDEN
                        } else {
                            StatusCode::FAILED_DEPENDENCY
                        };
                        (status, strip(item.1))
                    })
                    .collect());
            }
            let changes: Vec<_> = patch
                .iter()
                .map(|(set, p)| props::change(*set, p))
                .collect();
            self.store
                .change_props(ctx.user.id, node.id, &changes)
                .await
                .map_err(|e| failed(ctx, e))?;
            Ok(patch
                .into_iter()
                .map(|(_, p)| (StatusCode::OK, strip(p)))
                .collect())
        }
        .boxed()
    }

    fn get_props<'a>(
        &'a self,
        _path: &'a DavPath,
        _do_content: bool,
        _ctx: &'a ReqCtx,
    ) -> FsFuture<'a, Vec<DavProp>> {
        // PROPFIND is ours (`propfind.rs`); dav-server only asks here for its own PROPFIND.
        futures::future::ready(Ok(Vec::new())).boxed()
    }

    fn get_quota<'a>(&'a self, ctx: &'a ReqCtx) -> FsFuture<'a, (u64, Option<u64>)> {
        async move {
            let q = self
                .store
                .quota(ctx.space)
                .await
                .map_err(|e| failed(ctx, e))?;
            Ok((q.used, q.total))
        }
        .boxed()
    }
}

/// The property name only, as PROPPATCH answers list it.
fn strip(p: DavProp) -> DavProp {
    DavProp { xml: None, ..p }
}
