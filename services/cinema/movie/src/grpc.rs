//! gRPC inbound adapter of movie. Every field passes `mediamesh_mesh::input` first.
use mediamesh_mesh::error::{internal, invalid_argument, not_found};
use mediamesh_mesh::input::{self, NAME_MAX, TEXT_MAX};
use mediamesh_mesh::storage::page::Page;
use mediamesh_mesh::{Event, Raise, Store};
use mediamesh_proto::cinema::v1 as pb;
use tonic::{Request, Response, Status};

use crate::domain::{Movie, MovieError};
use crate::store;

const CONTEXT: &str = "cinema.movie";
/// A change that keeps meeting concurrent changes is given up after this many attempts.
const ATTEMPTS: usize = 3;

pub struct MovieApi {
    store: Store,
}

impl MovieApi {
    pub fn new(store: Store) -> MovieApi {
        MovieApi { store }
    }

    async fn load(&self, id: &str) -> Result<Movie, Status> {
        store::get(&self.store, id)
            .await
            .map_err(internal)?
            .ok_or_else(|| not_found("movie", id))
    }
}

fn rejected(e: MovieError) -> Status {
    match e {
        MovieError::BelowConfirmed { .. } => {
            Status::failed_precondition(format!("{}: {e}", e.field()))
        }
        e => invalid_argument(e.field(), e.to_string()),
    }
}

fn seats(seats: Option<i32>) -> Option<i64> {
    seats.map(i64::from)
}

fn to_pb(m: Movie) -> pb::Movie {
    pb::Movie {
        movie_id: m.id,
        title: m.title,
        desc: m.desc,
        seats: m.seats as i32,
        review_cnt: m.review_cnt as i32,
    }
}

fn changed(m: &Movie) -> pb::MovieUpdated {
    pb::MovieUpdated {
        movie_id: m.id.clone(),
        title: m.title.clone(),
        seats: m.seats as i32,
    }
}

#[tonic::async_trait]
impl pb::movie_service_server::MovieService for MovieApi {
    async fn list_movies(
        &self,
        request: Request<pb::ListMoviesRequest>,
    ) -> Result<Response<pb::ListMoviesResponse>, Status> {
        let r = request.into_inner();
        let page = Page::parse(r.page_size, &r.page_token)?;
        let mut movies = store::list(&self.store, page).await.map_err(internal)?;
        let next_page_token = page.finish(&mut movies);
        Ok(Response::new(pb::ListMoviesResponse {
            movies: movies.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    async fn get_movie(
        &self,
        request: Request<pb::GetMovieRequest>,
    ) -> Result<Response<pb::Movie>, Status> {
        let id = input::id("movie_id", &request.into_inner().movie_id)?;
        Ok(Response::new(to_pb(self.load(&id).await?)))
    }

    async fn create_movie(
        &self,
        request: Request<pb::CreateMovieRequest>,
    ) -> Result<Response<pb::Movie>, Status> {
        let r = request.into_inner();
        let id = input::optional_id("movie_id", &r.movie_id)?
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let title = input::text("title", &r.title, NAME_MAX)?;
        let desc = input::text("desc", &r.desc, TEXT_MAX)?;
        let movie = Movie::register(id, title, desc, seats(r.seats)).map_err(rejected)?;
        let registered = pb::MovieRegistered {
            movie_id: movie.id.clone(),
            title: movie.title.clone(),
            seats: movie.seats as i32,
        };
        let event = Event::new(CONTEXT, &registered, &movie.id, movie.version, &movie.id);
        let mut tx = self.store.begin().await.map_err(internal)?;
        if !store::insert(&mut tx, &movie).await.map_err(internal)? {
            // Ids of deleted movies are retired too: whoever held the id downstream (seat
            // ledger, viewpage, review counts) would otherwise see it come back half-alive.
            return Err(Status::already_exists(format!(
                "movie_id: movie {:?} exists or existed; ids are never reused",
                movie.id
            )));
        }
        tx.raise(event).await.map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(Response::new(to_pb(movie)))
    }

    async fn update_movie(
        &self,
        request: Request<pb::UpdateMovieRequest>,
    ) -> Result<Response<pb::Movie>, Status> {
        let r = request.into_inner();
        let id = input::id("movie_id", &r.movie_id)?;
        let title = r
            .title
            .map(|t| input::text("title", &t, NAME_MAX))
            .transpose()?;
        let desc = r
            .desc
            .map(|d| input::text("desc", &d, TEXT_MAX))
            .transpose()?;
        for _ in 0..ATTEMPTS {
            let mut movie = self.load(&id).await?;
            movie
                .change(title.clone(), desc.clone(), seats(r.seats))
                .map_err(rejected)?;
            let event = Event::new(CONTEXT, &changed(&movie), &id, movie.version, &id);
            let mut tx = self.store.begin().await.map_err(internal)?;
            if !store::update(&mut tx, &movie).await.map_err(internal)? {
                // Changed meanwhile (a confirmation counted, another change): check again.
                continue;
            }
            tx.raise(event).await.map_err(internal)?;
            tx.commit().await.map_err(internal)?;
            return Ok(Response::new(to_pb(movie)));
        }
        Err(Status::aborted("movie keeps changing meanwhile; try again"))
    }

    async fn delete_movie(
        &self,
        request: Request<pb::DeleteMovieRequest>,
    ) -> Result<Response<pb::DeleteMovieResponse>, Status> {
        let id = input::id("movie_id", &request.into_inner().movie_id)?;
        let mut tx = self.store.begin().await.map_err(internal)?;
        let Some(version) = store::delete(&mut tx, &id).await.map_err(internal)? else {
            return Err(not_found("movie", &id));
        };
        let deleted = pb::MovieDeleted {
            movie_id: id.clone(),
        };
        tx.raise(Event::new(CONTEXT, &deleted, &id, version, &id))
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(Response::new(pb::DeleteMovieResponse {}))
    }
}
