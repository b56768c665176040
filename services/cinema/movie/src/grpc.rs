//! gRPC inbound adapter of movie.
use mediamesh_mesh::error::{check_id, internal, invalid_argument, not_found};
use mediamesh_mesh::page::Page;
use mediamesh_mesh::{Event, Store};
use mediamesh_proto::cinema::v1 as pb;
use tonic::{Request, Response, Status};

use crate::domain::{Movie, MovieError};
use crate::store;

const CONTEXT: &str = "cinema.movie";

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
    invalid_argument(e.field(), e.to_string())
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
        Ok(Response::new(to_pb(
            self.load(&request.into_inner().movie_id).await?,
        )))
    }

    async fn create_movie(
        &self,
        request: Request<pb::CreateMovieRequest>,
    ) -> Result<Response<pb::Movie>, Status> {
        let r = request.into_inner();
        let id = if r.movie_id.is_empty() {
            uuid::Uuid::now_v7().to_string()
        } else {
            check_id("movie_id", &r.movie_id)?;
            r.movie_id
        };
        let movie =
            Movie::register(id, &r.title, &r.desc, r.seats.map(i64::from)).map_err(rejected)?;
        let registered = pb::MovieRegistered {
            movie_id: movie.id.clone(),
            title: movie.title.clone(),
            seats: movie.seats as i32,
        };
        let event = Event::new(CONTEXT, &registered, &movie.id, 1, &movie.id);
        let mut tx = self.store.begin().await.map_err(internal)?;
        if !store::insert(&mut tx, &movie).await.map_err(internal)? {
            return Err(Status::already_exists(format!(
                "movie {:?} already exists",
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
        let mut movie = self.load(&r.movie_id).await?;
        movie
            .change(
                r.title.as_deref(),
                r.desc.as_deref(),
                r.seats.map(i64::from),
            )
            .map_err(rejected)?;
        let event = Event::new(CONTEXT, &changed(&movie), &movie.id, 0, &movie.id);
        let mut tx = self.store.begin().await.map_err(internal)?;
        store::update(&mut tx, &movie).await.map_err(internal)?;
        tx.raise(event).await.map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(Response::new(to_pb(movie)))
    }

    async fn delete_movie(
        &self,
        request: Request<pb::DeleteMovieRequest>,
    ) -> Result<Response<pb::DeleteMovieResponse>, Status> {
        let id = request.into_inner().movie_id;
        let event = Event::new(
            CONTEXT,
            &pb::MovieDeleted {
                movie_id: id.clone(),
            },
            &id,
            0,
            &id,
        );
        let mut tx = self.store.begin().await.map_err(internal)?;
        if !store::delete(&mut tx, &id).await.map_err(internal)? {
            return Err(not_found("movie", &id));
        }
        tx.raise(event).await.map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(Response::new(pb::DeleteMovieResponse {}))
    }
}
