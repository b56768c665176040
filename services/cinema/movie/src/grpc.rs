//! gRPC inbound adapter of movie. Every field passes `mediamesh_mesh::input` first; the
//! domain decides, and this adapter persists and publishes what it returns.
use mediamesh_mesh::input::{self, NAME_MAX, TEXT_MAX};
use mediamesh_mesh::serving::auth;
use mediamesh_mesh::storage::page::Keyset;
use mediamesh_mesh::{Event, Peer, Raise, Retry, Store};
use mediamesh_proto::cinema::v1 as pb;
use mediamesh_proto::cinema::v1::reservation_service_client::ReservationServiceClient;
use tonic::{Code, Request, Response, Status};

use crate::access;
use crate::domain::{Movie, Published};
use crate::error::Error;
use crate::store;

const CONTEXT: &str = "cinema.movie";
/// A change that keeps meeting concurrent changes is given up after this many attempts.
const ATTEMPTS: usize = 3;

pub struct MovieApi {
    store: Store,
    /// Reservation's seat ledger: the authority on seats held, asked before lowering seats.
    reservation: Peer,
}

/// What the seat ledger said to a lower capacity.
enum Ledger {
    Set,
    /// It already reflects a later change of the movie: load and decide again.
    Moved,
}

impl MovieApi {
    pub fn new(store: Store, reservation: Peer) -> MovieApi {
        MovieApi { store, reservation }
    }

    /// Asks the seat ledger to take `seats` at the version the change brings the movie to.
    /// Movie's own confirmed count comes from events and lags behind holds and
    /// confirmations in flight, so only the ledger can say whether the seats are free; an
    /// unreachable ledger refuses the change (UNAVAILABLE, retry later), never lowers blind.
    async fn ask_ledger(&self, published: &Published) -> Result<Ledger, Error> {
        let request = pb::SetCapacityRequest {
            movie_id: published.movie_id.clone(),
            seats: published.seats.get(),
            movie_version: published.version,
        };
        // Idempotent: the same capacity at the same version sets the same thing again.
        let answer = self
            .reservation
            .call(Retry::Safe, |channel| {
                let request = self.reservation.request(request.clone());
                async move {
                    ReservationServiceClient::new(channel)
                        .set_capacity(request)
                        .await
                }
            })
            .await;
        let Err(error) = answer else {
            return Ok(Ledger::Set);
        };
        let status = Status::from(error.clone());
        match status.code() {
            Code::FailedPrecondition => Err(Error::SeatsHeld(status.message().to_owned())),
            Code::Aborted => Ok(Ledger::Moved),
            Code::NotFound => Err(Error::NotFound(published.movie_id.clone())),
            _ => Err(Error::Ledger(error)),
        }
    }

    async fn load(&self, id: &str) -> Result<Movie, Error> {
        store::get(&self.store, id)
            .await?
            .ok_or_else(|| Error::NotFound(id.to_owned()))
    }

    async fn create(&self, r: pb::CreateMovieRequest) -> Result<Movie, Error> {
        let id = input::optional_id("movie_id", &r.movie_id)?
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let title = input::text("title", &r.title, NAME_MAX)?;
        let desc = input::text("desc", &r.desc, TEXT_MAX)?;
        let (movie, registered) = Movie::register(id, title, desc, r.seats.map(i64::from))?;
        let event = pb::MovieRegistered {
            movie_id: registered.movie_id.clone(),
            title: registered.title.clone(),
            seats: registered.seats.get(),
        };
        let mut tx = self.store.begin().await?;
        if !store::insert(&mut tx, &movie).await? {
            // Whoever held the id downstream (seat ledger, viewpage, review counts) would
            // otherwise see it come back half-alive.
            return Err(Error::Exists(movie.id().to_owned()));
        }
        let id = &registered.movie_id;
        tx.raise(Event::new(CONTEXT, &event, id, registered.version, id))
            .await?;
        tx.commit().await?;
        Ok(movie)
    }

    async fn update(&self, r: pb::UpdateMovieRequest) -> Result<Movie, Error> {
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
            let before = movie.seats();
            let updated = movie.change(title.clone(), desc.clone(), r.seats.map(i64::from))?;
            // Fewer seats: the seat ledger decides first. More seats need no ask: the event
            // raises the ledger's capacity after the fact, which can only refuse too long.
            if updated.seats < before
                && let Ledger::Moved = self.ask_ledger(&updated).await?
            {
                continue;
            }
            let event = pb::MovieUpdated {
                movie_id: updated.movie_id.clone(),
                title: updated.title.clone(),
                seats: updated.seats.get(),
            };
            let mut tx = self.store.begin().await?;
            if !store::update(&mut tx, &movie).await? {
                // Changed meanwhile (a confirmation counted, another change): check again.
                continue;
            }
            tx.raise(Event::new(CONTEXT, &event, &id, updated.version, &id))
                .await?;
            tx.commit().await?;
            return Ok(movie);
        }
        Err(Error::Busy)
    }

    async fn delete(&self, r: pb::DeleteMovieRequest) -> Result<(), Error> {
        let id = input::id("movie_id", &r.movie_id)?;
        let mut tx = self.store.begin().await?;
        let Some(version) = store::delete(&mut tx, &id).await? else {
            return Err(Error::NotFound(id));
        };
        let deleted = pb::MovieDeleted {
            movie_id: id.clone(),
        };
        tx.raise(Event::new(CONTEXT, &deleted, &id, version, &id))
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn to_pb(m: Movie) -> pb::Movie {
    pb::Movie {
        movie_id: m.id().to_owned(),
        title: m.title().to_owned(),
        desc: m.desc().to_owned(),
        seats: m.seats().get(),
        // A count past i32 cannot be shown as it is: shown at the most the contract holds.
        review_cnt: i32::try_from(m.review_cnt()).unwrap_or(i32::MAX),
    }
}

#[tonic::async_trait]
impl pb::movie_service_server::MovieService for MovieApi {
    async fn list_movies(
        &self,
        request: Request<pb::ListMoviesRequest>,
    ) -> Result<Response<pb::ListMoviesResponse>, Status> {
        let r = request.into_inner();
        let page = Keyset::parse(r.page_size, &r.page_token, 2)?;
        let rows = store::list(&self.store, &page).await.map_err(Error::from)?;
        let (movies, next_page_token) = page.split(rows);
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
        auth::authorize(&request, access::may_manage)?;
        Ok(Response::new(to_pb(
            self.create(request.into_inner()).await?,
        )))
    }

    async fn update_movie(
        &self,
        request: Request<pb::UpdateMovieRequest>,
    ) -> Result<Response<pb::Movie>, Status> {
        auth::authorize(&request, access::may_manage)?;
        Ok(Response::new(to_pb(
            self.update(request.into_inner()).await?,
        )))
    }

    async fn delete_movie(
        &self,
        request: Request<pb::DeleteMovieRequest>,
    ) -> Result<Response<pb::DeleteMovieResponse>, Status> {
        auth::authorize(&request, access::may_manage)?;
        self.delete(request.into_inner()).await?;
        Ok(Response::new(pb::DeleteMovieResponse {}))
    }
}
