//! The OData query options Web and the desktop client send to Graph, parsed once:
//! `$filter=driveType eq personal` (form-encoded, quotes optional), `$orderby=name asc`,
//! `$search="text"` (the quotes are part of the value), `$expand=memberOf`.
//! research/web-and-oidc.md §4 row 11, §5.6, §6.3.

use super::GraphError;

/// How a list is ordered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    /// The property (`name`, `displayName`, `lastModifiedDateTime`).
    pub field: String,
    /// Descending instead of ascending.
    pub desc: bool,
}

/// The query options of one Graph request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// `$filter`, as sent (decoded).
    pub filter: Option<String>,
    /// `$orderby`.
    pub order: Option<OrderBy>,
    /// `$search` without its quotes.
    pub search: Option<String>,
    /// `$expand` items.
    pub expand: Vec<String>,
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

impl Query {
    /// Parse a raw query string; unknown options are ignored, malformed known ones refused.
    pub fn parse(raw: Option<&str>) -> Result<Query, GraphError> {
        let mut q = Query::default();
        for (k, v) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            match k.as_ref() {
                "$filter" => q.filter = Some(v.trim().to_string()),
                "$search" => q.search = Some(unquote(&v).to_string()).filter(|s| !s.is_empty()),
                "$expand" => {
                    q.expand = v.split(',').map(|s| s.trim().to_string()).collect();
                }
                "$orderby" => {
                    let mut parts = v.split_whitespace();
                    let field = parts.next().ok_or_else(|| bad("empty $orderby"))?;
                    let desc = match parts.next().map(str::to_ascii_lowercase).as_deref() {
                        None | Some("asc") => false,
                        Some("desc") => true,
                        Some(other) => return Err(bad(&format!("$orderby direction {other}"))),
                    };
                    q.order = Some(OrderBy {
                        field: field.to_string(),
                        desc,
                    });
                }
                _ => {}
            }
        }
        Ok(q)
    }

    /// Whether `$expand` names `what`.
    pub fn expands(&self, what: &str) -> bool {
        self.expand.iter().any(|e| e.eq_ignore_ascii_case(what))
    }

    /// The value of a `$filter` of the form `<field> eq <value>` (value quoted or not);
    /// `Ok(None)` without a filter, an error for any other filter.
    pub fn eq_filter(&self, field: &str) -> Result<Option<String>, GraphError> {
        let Some(f) = &self.filter else {
            return Ok(None);
        };
        let inner = f.trim().trim_start_matches('(').trim_end_matches(')');
        let mut parts = inner.splitn(3, char::is_whitespace);
        match (parts.next(), parts.next(), parts.next()) {
            (Some(k), Some(op), Some(v)) if k == field && op.eq_ignore_ascii_case("eq") => {
                Ok(Some(unquote(v).to_string()))
            }
            _ => Err(bad(&format!("unsupported $filter: {f}"))),
        }
    }
}

fn bad(msg: &str) -> GraphError {
    GraphError::InvalidRequest(msg.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let q = Query::parse(Some("%24orderby=name+asc&%24filter=driveType+eq+personal")).unwrap();
        assert_eq!(
            q.eq_filter("driveType").unwrap().as_deref(),
            Some("personal")
        );
        assert_eq!(
            q.order,
            Some(OrderBy {
                field: "name".into(),
                desc: false
            })
        );
        let q = Query::parse(Some("$filter=driveType eq 'project'&$orderby=name desc")).unwrap();
        assert_eq!(
            q.eq_filter("driveType").unwrap().as_deref(),
            Some("project")
        );
        assert!(q.order.unwrap().desc);
        let q = Query::parse(Some("%24search=%22al%22&%24orderby=displayName")).unwrap();
        assert_eq!(q.search.as_deref(), Some("al"));
        let q = Query::parse(Some("$filter=(userType eq 'Federated')")).unwrap();
        assert_eq!(
            q.eq_filter("userType").unwrap().as_deref(),
            Some("Federated")
        );
        assert!(q.eq_filter("driveType").is_err());
        assert!(Query::parse(Some("$orderby=name sideways")).is_err());
        let q = Query::parse(Some("$expand=memberOf")).unwrap();
        assert!(q.expands("memberof"));
        assert_eq!(Query::parse(None).unwrap(), Query::default());
    }
}
