//! AIP-158 pagination: `page_size` (default 50, at most 100) and an opaque `page_token`
//! that is the offset of the next page.
use crate::error::FieldViolation;

pub const DEFAULT_PAGE_SIZE: i64 = 50;
/// At most 100 rows a page: with every field bounded (`input`), the largest page still fits
/// the gateway's response buffer.
pub const MAX_PAGE_SIZE: i64 = 100;

/// A validated page request: how many rows, from which offset.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub size: i64,
    pub offset: i64,
}

impl Page {
    pub fn parse(page_size: i32, page_token: &str) -> Result<Page, FieldViolation> {
        if page_size < 0 {
            return Err(FieldViolation::new("page_size", "must not be negative"));
        }
        let size = match page_size as i64 {
            0 => DEFAULT_PAGE_SIZE,
            n => n.min(MAX_PAGE_SIZE),
        };
        let offset = if page_token.is_empty() {
            0
        } else {
            page_token
                .parse::<i64>()
                .ok()
                .filter(|o| *o >= 0)
                .ok_or_else(|| {
                    FieldViolation::new("page_token", "is not a token this server issued")
                })?
        };
        Ok(Page { size, offset })
    }

    /// Rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch_limit(&self) -> i64 {
        self.size + 1
    }

    /// Trims the extra row and returns the next page's token (empty on the last page).
    pub fn finish<T>(&self, rows: &mut Vec<T>) -> String {
        if rows.len() as i64 > self.size {
            rows.truncate(self.size as usize);
            (self.offset + self.size).to_string()
        } else {
            String::new()
        }
    }
}
